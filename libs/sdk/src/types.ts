import type { components } from './generated/openapi';

type Schemas = components['schemas'];

/** The one JSON shape every error answer has. */
export type ErrorBody = Schemas['ErrorBodyDto'];

// Flansible-compatible endpoints.

/**
 * Module arguments: an object (sent to `-a` as JSON) or a `key=value` string. The server takes
 * both, but the spec declares only the object form, so the generated type is widened here.
 */
export type ModuleArgs = string | Record<string, unknown>;
export type RunCommandRequest = Omit<Schemas['AnsibleCommandDto'], 'module_args'> & { module_args?: ModuleArgs };
export type RunPlaybookRequest = Schemas['AnsiblePlaybookDto'];
export type GitUpdateRequest = Schemas['GitUpdateDto'];
export type TaskStatus = Schemas['TaskStatusDto'];
export type ListedPlaybook = Schemas['ListedPlaybookDto'];
export type Health = Schemas['HealthDto'];

// The v1 resource API.

export type SubmitCommandRequest = Omit<Schemas['SubmitCommandJobDto'], 'module_args'> & { module_args?: ModuleArgs };
export type SubmitPlaybookRequest = Schemas['SubmitPlaybookJobDto'];
export type JobResource = Schemas['JobResourceDto'];
export type JobStatus = JobResource['status'];
export type JobKind = JobResource['kind'];
export type JobRequest = Schemas['JobRequestDto'];
export type JobPage = Schemas['JobPageDto'];
export type OutputPage = Schemas['OutputPageDto'];
export type JobEvent = Schemas['JobEventDto'];
export type JobEventType = JobEvent['type'];
export type EventPage = Schemas['EventPageDto'];
export type JobSummary = Schemas['JobSummaryDto'];
export type HostSummary = Schemas['HostSummaryDto'];
export type RelaunchJobRequest = Schemas['RelaunchJobDto'];
/** Which hosts of a finished job's results a relaunch runs on. */
export type RelaunchHosts = RelaunchJobRequest['hosts'];

// API tokens.

export type CreateApiTokenRequest = Schemas['CreateApiTokenDto'];
export type ApiToken = Schemas['ApiTokenDto'];
/** A new token: `token` is shown this once. */
export type CreatedApiToken = Schemas['CreatedApiTokenDto'];
export type ApiTokenList = Schemas['ApiTokenListDto'];
export type ApiTokenScope = ApiToken['scope'];

export interface ListApiTokensQuery {
  /** This user's tokens (admins only, unless it is the caller). */
  user?: string;
  /** Every user's tokens (admins only). */
  all?: boolean;
}

// Webhooks (POST /api/v1/webhooks): signed Standard Webhooks deliveries of job.started / job.finished.

export type CreateWebhookRequest = Schemas['CreateWebhookDto'];
export type WebhookEventType = CreateWebhookRequest['events'][number];
export type Webhook = Schemas['WebhookDto'];
/** The answer to createWebhook: the subscription and, this once, its `whsec_` signing secret. */
export type CreatedWebhook = Schemas['CreatedWebhookDto'];
export type WebhookAttempt = Schemas['WebhookAttemptDto'];

export interface WebhookDeliveriesQuery {
  /** How many of the latest attempts, 1-100; default 50. */
  limit?: number;
}

/** What a receiver gets in each delivery's body (verify the signature before trusting it). */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the job started or ended, ISO 8601. */
  timestamp: string;
  /** The job, as GET /api/v1/jobs/{id} answers the webhook's owner. */
  data: JobResource;
}

/** States nothing moves a job out of. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['successful', 'failed', 'canceled', 'timed_out', 'error'];

export function isTerminalJobStatus(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

export interface SubmitOptions {
  /** Retrying with the same key returns the job the first request created instead of running it twice. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ListJobsQuery {
  /** One status or several (sent comma-separated). */
  status?: JobStatus | readonly JobStatus[];
  kind?: JobKind;
  /** Submitted by this user. */
  user?: string;
  /** Inventory name or path, as a job request names it. */
  inventory?: string;
  created_before?: Date | string;
  created_after?: Date | string;
  /** Page size, 1-500; default 50. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface JobEventsQuery {
  /** One type or several (sent comma-separated). */
  type?: JobEventType | readonly JobEventType[];
  /** Only events after this counter (keyset); `next_after` of the previous page. */
  after?: number;
  /** Page size, 1-1000; default 100. */
  limit?: number;
  host?: string;
}

export interface OutputRange {
  /** First line (1-based); default 1. */
  start_line?: number;
  /** Last line (inclusive); default start_line + 9,999. */
  end_line?: number;
}

export interface WaitOptions {
  /** Time between polls; default 1000 ms. */
  intervalMs?: number;
  /** Give up (FlansibleTimeoutError) after this long; default: wait as long as it takes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

// The live stream (GET /api/v1/jobs/{id}/stream).

interface StreamMessageBase<Type extends string, Data> {
  /** `lines:events` the client has received once it has this message; what Last-Event-ID resumes from. */
  id: string;
  type: Type;
  data: Data;
}

/** New output lines, numbered from `start_line`. */
export type JobOutputMessage = StreamMessageBase<'output', { start_line: number; lines: string[] }>;
/** One structured event. */
export type JobEventMessage = StreamMessageBase<'event', JobEvent>;
/** The job's status changed (also sent first on every (re)connection). */
export type JobStatusMessage = StreamMessageBase<'status', { status: JobStatus; reason: string | null; return_code: number | null }>;
/** The job has ended: the last message. */
export type JobEndMessage = StreamMessageBase<'end', { status: JobStatus }>;
export type JobStreamMessage = JobOutputMessage | JobEventMessage | JobStatusMessage | JobEndMessage;

export interface FollowJobOptions {
  /** Resume after this message id (e.g. `12:4`) instead of from the start. */
  lastEventId?: string;
  /** Stops following; the iterator then throws the signal's reason. */
  signal?: AbortSignal;
  /** Reconnection attempts in a row without receiving a message before giving up; default 10. */
  maxReconnects?: number;
  /** Wait before reconnecting; default: what the server asks for (`retry:`), else 1000 ms. */
  reconnectDelayMs?: number;
  /**
   * Reconnect when nothing (not even the server's keep-alive comment, sent every 15 s) has arrived
   * for this long: a connection a proxy silently dropped. Default 45,000 ms; 0 disables.
   */
  stallTimeoutMs?: number;
}
