import { HostSummary, JobEvent, JobEventType, JobKind, JobOutcome, JobSpec, JobStatus, NewJobEvent } from '@flansible/contracts';

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

/**
 * The results store port: SQLite in the embedded deployment, PostgreSQL in the distributed one.
 * Also the DI token. Every state change is a guarded update, so terminal states stay final and a
 * job is claimed by one runner at most.
 */
export abstract class JobStore {
  /** Creates the schema or migrates it to the current version. Called once at start. */
  abstract migrate(): Promise<void>;
  /**
   * Inserts a job in state queued; with an idempotency key already used by the same user,
   * inserts nothing and returns the earlier job's id, fingerprint and pending deadline.
   */
  abstract createJob(job: NewJob): Promise<CreatedJob>;
  /** The job's submission succeeded: a retry with its idempotency key now gets it, never a 409. */
  abstract confirmIdempotencyKey(id: string): Promise<void>;
  /** Records that the broker confirmed the job's message (the outbox flag); idempotent. */
  abstract markPublished(id: string, at: Date): Promise<void>;
  /**
   * Queued jobs created before `createdBefore` whose message no broker ever confirmed (their
   * gateway died in between), oldest first, at most `limit`: what the reconciler publishes.
   */
  abstract findUnpublishedJobs(createdBefore: Date, limit: number): Promise<JobRecord[]>;
  /** Removes a job and its output: the rollback when a job could not be queued. */
  abstract deleteJob(id: string): Promise<void>;
  abstract findJob(id: string): Promise<JobRecord | undefined>;
  /** How many of this user's jobs are queued or running (the per-user job limit counts these). */
  abstract countOpenJobs(submittedBy: string): Promise<number>;
  /** Jobs in any of the given states, oldest first (recovery at start of the embedded deployment). */
  abstract findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]>;
  /** queued → running for this runner. False when the job is not queued (already started, finished or gone). */
  abstract claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean>;
  /**
   * Claims the fairest queued job for this runner (queued → running) and returns it, or null when
   * none is queued. The job queue's message is only a wake-up: what runs is the job as stored.
   */
  abstract claimNextJob(runnerId: string, startedAt: Date, preferredId?: string): Promise<JobRecord | null>;
  /** queued|running → terminal. False when the job already was terminal (terminal states are final). */
  abstract completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean>;
  /**
   * Appends one batch of output; cost proportional to the batch, not to what is already stored.
   * The store keeps line numbers so that any range of lines is read without the rest.
   */
  abstract appendOutput(id: string, chunk: string): Promise<void>;
  /** All output stored so far, in the order it was appended ('' when none). */
  abstract readOutput(id: string): Promise<string>;
  /** Lines `from`..`to` (1-based, inclusive, clipped to what exists) in time independent of the output's size. */
  abstract readOutputLines(id: string, from: number, to: number): Promise<OutputLines>;

  /** Appends events in order, numbering them after the job's last counter (one writer per job: its runner). */
  abstract appendEvents(id: string, events: NewJobEvent[]): Promise<void>;
  /** Events after `query.after`, oldest first, at most `limit`. */
  abstract readEvents(id: string, query: EventQuery): Promise<JobEvent[]>;
  /**
   * Per-host totals, sorted by host: from the final stats event when there is one, else counted
   * from host events as Ansible counts them (a changed result is also ok; a failure with
   * ignore_errors is ok and ignored, not failed; rescued stays 0 until the stats).
   */
  abstract summarize(id: string): Promise<HostSummary[]>;

  /** History, newest first, keyset-paginated: at most `limit` jobs strictly after `cursor`. */
  abstract listJobs(filter: JobListFilter, limit: number, cursor?: JobListCursor): Promise<JobRecord[]>;

  /**
   * Cancels a queued job at once (status canceled, it never starts), or marks a running one
   * (cancelRequestedAt) for its runner to stop.
   */
  abstract cancelJob(id: string, reason: string, at: Date): Promise<CancelResult>;
  /** Running jobs of this runner with a cancel request: the runner's fallback when a bus message was lost. */
  abstract findCancelRequests(runnerId: string): Promise<string[]>;
  /** Jobs the store holds as running on this runner: its sweep ends those it no longer runs. */
  abstract findJobsRunningOn(runnerId: string): Promise<string[]>;

  /** Records that a runner is alive (upsert). */
  abstract recordHeartbeat(runnerId: string, at: Date): Promise<void>;
  /** Removes a runner that stops cleanly. */
  abstract removeRunner(runnerId: string): Promise<void>;
  /**
   * Jobs running on a runner whose last heartbeat is before `staleBefore` (or that has none)
   * end as error with `reason`, in which `{runner}` becomes the job's runner id; returns their
   * ids. So a runner records its first heartbeat before it claims any job.
   */
  abstract failJobsOfLostRunners(staleBefore: Date, reason: string, at: Date): Promise<string[]>;
  /** Forgets runners silent since before `before` that no running job names; returns how many. */
  abstract forgetSilentRunners(before: Date): Promise<number>;

  /** Deletes terminal jobs (with output and events) created before `before`; returns how many. */
  abstract purgeFinishedBefore(before: Date): Promise<number>;

  abstract close(): Promise<void>;

  /** Resolves once the database has answered a trivial query; rejects otherwise (readiness checks). */
  abstract ping(): Promise<void>;
}
