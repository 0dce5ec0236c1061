export * from './job-status';
export * from './job-event';
export * from './field-grammar';
export * from './job-message';
export * from './topology';
export * from './error-body';
export * from './module-argument-rules';
export * from './store-limits';
