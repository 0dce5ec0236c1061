import { ColumnType, Generated } from 'kysely';

/**
 * Epoch milliseconds, stored as BIGINT in both dialects so ordering is numeric everywhere.
 * better-sqlite3 reads it back as a number, pg reads INT8 as a string: callers use Number().
 */
type EpochMs = ColumnType<number | string, number, number>;
type NullableEpochMs = ColumnType<number | string | null, number | null, number | null>;

/** Row shapes of the store's tables, as Kysely sees them (snake_case, as in the schema). */
export interface JobsTable {
  id: string;
  kind: string;
  status: string;
  reason: string | null;
  return_code: number | null;
  submitted_by: string;
  inventory: string | null;
  /** The JobSpec as JSON text (portable: no JSON column type needed in SQLite). */
  spec: string;
  runner_id: string | null;
  created_at: EpochMs;
  started_at: NullableEpochMs;
  finished_at: NullableEpochMs;
  // Added by migration 0002; the defaults fill them on insert.
  priority: ColumnType<number, number | undefined, number>;
  /** With submitted_by, unique: a retried submission finds the first job. */
  idempotency_key: string | null;
  cancel_requested_at: NullableEpochMs;
  /** Migration 0004: the reason the (first) cancel request of a running job gave. */
  cancel_reason: ColumnType<string | null, string | null | undefined, string | null>;
  request_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0010: the job a relaunch repeats. */
  relaunch_of: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0011: `warm` or `cold`, set with the outcome. */
  launch_path: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0006: method, route and body digest of the request the idempotency key was sent with. */
  idempotency_fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0006: set while the keyed submission may still fail and free its key. */
  idempotency_pending_until: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** Lines stored so far, a last line without its newline included. */
  output_lines: ColumnType<number, never, number>;
  /** 1 while the last stored line has no newline yet (the next chunk continues it), else 0. */
  output_line_open: ColumnType<number, never, number>;
  /** Events stored so far; the last event's counter. */
  event_count: ColumnType<number, never, number>;
}

export interface JobOutputTable {
  /** Monotonic per table; the order chunks were appended in. pg returns INT8 as a string. */
  id: Generated<number | string>;
  job_id: string;
  chunk: string;
  /**
   * 1-based line numbers of the chunk's first and last character (migration 0002). Never 0 once
   * migrated: a stored chunk is never empty.
   */
  start_line: number;
  end_line: number;
}

export interface JobEventsTable {
  job_id: string;
  /** 1, 2, 3 ... per job; with job_id the primary key. */
  counter: number;
  type: string;
  host: string | null;
  task: string | null;
  /** The event's details as JSON text. */
  data: string;
  created_at: EpochMs;
}

export interface RunnersTable {
  runner_id: string;
  heartbeat_at: EpochMs;
  started_at: EpochMs;
}

/** Migration 0005, the outbox flag: one row per job whose message the broker confirmed. */
export interface JobPublicationsTable {
  job_id: string;
  published_at: EpochMs;
}

/** Migration 0008: API tokens, by the hash of the token. */
export interface ApiTokensTable {
  id: string;
  user_name: string;
  name: string;
  scope: string;
  /** SHA-256 of the token, hex; unique. */
  secret_hash: string;
  created_at: EpochMs;
  expires_at: EpochMs;
  last_used_at: NullableEpochMs;
}

/** Migration 0009: who subscribed which URL, with the secret its deliveries are signed with. */
export interface WebhookSubscriptionsTable {
  id: string;
  owner: string;
  url: string;
  /** whsec_<base64>: the signing key, which the API shows only once, when it is created. */
  secret: string;
  created_at: EpochMs;
}

/** Migration 0009: the event types each subscription asked for, one row each. */
export interface WebhookSubscriptionEventsTable {
  event_type: string;
  subscription_id: string;
}

/** Migration 0009: one event of one job for one subscription, and where its delivery stands. */
export interface WebhookDeliveriesTable {
  id: Generated<number | string>;
  subscription_id: string;
  job_id: string;
  event_type: string;
  occurred_at: EpochMs;
  /** pending (to be attempted at next_attempt_at), delivered, failed (attempts used up) or skipped. */
  state: string;
  attempts: ColumnType<number, number | undefined, number>;
  /** When it is due; while a dispatcher holds it, when its lease runs out. */
  next_attempt_at: EpochMs;
  /** The claim of the dispatcher that holds it; its updates are guarded by it. */
  lease_token: ColumnType<string | null, string | null | undefined, string | null>;
  /** The body, fixed at the first attempt so that every retry sends the same bytes. */
  payload: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Migration 0009: each attempt's answer, for GET /api/v1/webhooks/{id}/deliveries. */
export interface WebhookAttemptsTable {
  id: Generated<number | string>;
  delivery_id: number | string;
  subscription_id: string;
  attempt: number;
  attempted_at: EpochMs;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

export interface StoreDatabase {
  jobs: JobsTable;
  job_publications: JobPublicationsTable;
  job_output: JobOutputTable;
  job_events: JobEventsTable;
  runners: RunnersTable;
  api_tokens: ApiTokensTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_subscription_events: WebhookSubscriptionEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

/** The two SQL engines the store runs on. Only connection setup and one column type differ. */
export type StoreDialect = 'sqlite' | 'postgres';
