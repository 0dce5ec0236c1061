export * from './resolve-inside-root';
export * from './workspace.service';
export * from './workspace.module';
