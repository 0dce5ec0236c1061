export * from './flansible-config';
export * from './load-config';
export * from './config.module';
export * from './load-config-or-exit';
export * from './clock';
export * from './webhook-allowed-hosts';
