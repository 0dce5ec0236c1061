import { JobEventType, JobKind, JobSpec, JobStatus, LaunchPath } from '@flansible/contracts';

/** A job as the store keeps it. */
export interface JobRecord {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** One-line human reason for every non-successful terminal state. */
  reason: string | null;
  returnCode: number | null;
  submittedBy: string;
  /** Resolved inventory path (null for git jobs). */
  inventory: string | null;
  spec: JobSpec;
  /** Identity of the runner that claimed the job. */
  runnerId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** 0-9, higher first where the queue supports it. */
  priority: number;
  /** Set when a cancel was asked for while the job ran; the runner stops it. */
  cancelRequestedAt: Date | null;
  /** The reason that request gave (`Canceled by alice`). */
  cancelReason: string | null;
  /** The submitting HTTP request's id (X-Request-Id), for the logs. */
  requestId: string | null;
  /** The job this one relaunches (its failed hosts, say); null for a fresh submission. */
  relaunchOf: string | null;
  /** How its Ansible started (warm runner or cold); null until it finished, and when nothing started. */
  launchPath: LaunchPath | null;
  /** Lines of output stored so far (a last line without its newline counts). */
  outputLines: number;
  /** Events stored so far; the last event's counter. */
  eventCount: number;
}

export interface NewJob {
  id: string;
  submittedBy: string;
  spec: JobSpec;
  createdAt: Date;
  priority?: number;
  /** The submitting HTTP request's id. */
  requestId?: string;
  /** The job this one relaunches. */
  relaunchOf?: string;
  /** With submittedBy, makes a retried submission return the first job instead of a new one. */
  idempotencyKey?: string;
  /** What the request sent with that key asked for: a retry must ask for the same. */
  idempotencyFingerprint?: string;
  /**
   * With a key: until then the submission may still fail and delete the job, freeing the key
   * (confirmIdempotencyKey ends it once the job is queued for good).
   */
  idempotencyPendingUntil?: Date;
}

/** What createJob did: the id of the new job, or of the earlier one with the same idempotency key. */
export interface CreatedJob {
  id: string;
  created: boolean;
  /** The earlier job's fingerprint (created false); absent for keys stored without one. */
  idempotencyFingerprint?: string;
  /** The earlier job's pending deadline (created false), while its submission is not confirmed. */
  idempotencyPendingUntil?: Date;
}

/** History filters; every one optional, all combined with AND. */
export interface JobListFilter {
  /** Any of these states; absent or empty: any state. */
  statuses?: JobStatus[];
  kind?: JobKind;
  submittedBy?: string;
  /** Real inventory path. */
  inventory?: string;
  /** Created strictly before this time. */
  createdBefore?: Date;
  /** Created strictly after this time. */
  createdAfter?: Date;
  /** Restricts to jobs a non-admin may read: submitted by this user or on one of these inventories. */
  visibleTo?: { user: string; inventories: string[] };
}

/** Keyset position: the last job of the previous page. Newest first: (createdAt, id) descending. */
export interface JobListCursor {
  createdAt: Date;
  id: string;
}

export interface OutputLines {
  /** The requested lines (1-based `from`), without their newlines. */
  lines: string[];
  /** First line number returned (1-based). */
  from: number;
  /** Lines stored in all. */
  totalLines: number;
  /** Whether the stored output ends with a newline, i.e. its last line is complete (true when empty). */
  endsWithNewline: boolean;
}

export interface EventQuery {
  /** Only events with a counter above this (keyset). */
  after?: number;
  limit: number;
  host?: string;
  /** Any of these types; absent or empty: any type. */
  types?: JobEventType[];
}

/** What cancelJob did. */
export type CancelResult = 'canceled' | 'requested' | 'already-final' | 'not-found';
