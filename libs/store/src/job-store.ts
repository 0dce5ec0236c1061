import { ApiTokenStore } from './api-token-store';
import { GatewayJobStore } from './gateway-job-store';
import { RunnerJobStore } from './runner-job-store';
import { WebhookStore } from './webhook-store';

/**
 * A whole store, every face, as createJobStore opens it: SQLite in the embedded deployment,
 * PostgreSQL in the distributed one. Not a DI token: services inject GatewayJobStore,
 * RunnerJobStore, ApiTokenStore or WebhookStore (StoreModule provides each from one store).
 */
export interface JobStore extends GatewayJobStore, RunnerJobStore, ApiTokenStore, WebhookStore {
  /** Creates the schema or migrates it to the current version. Called once at start. */
  migrate(): Promise<void>;
  /** Releases the connection(s); safe to call more than once. */
  close(): Promise<void>;
}
