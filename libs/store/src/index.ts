export { GatewayJobStore } from './gateway-job-store';
export { RunnerJobStore } from './runner-job-store';
export { ApiTokenStore } from './api-token-store';
export type { ApiTokenFilter, ApiTokenRecord, NewApiToken } from './api-token-records';
export { WebhookStore } from './webhook-store';
export type { NewWebhook, WebhookAttemptRecord, WebhookAttemptResult, WebhookDelivery, WebhookDeliveryNext, WebhookRecord } from './webhook-records';
export type { JobStore } from './job-store';
export type {
  CancelResult,
  CreatedJob,
  EventQuery,
  JobListCursor,
  JobListFilter,
  JobRecord,
  NewJob,
  OutputLines,
} from './job-records';
export { StoreModule } from './store.module';
export { createJobStore, SQLITE_FILE_NAME } from './create-job-store';
export { countNewlines } from './output-lines';
export { HOST_RESULT_EVENTS, summaryFromHostEvents, summaryFromStats } from './host-summary';
export type { HostEventRow } from './host-summary';
