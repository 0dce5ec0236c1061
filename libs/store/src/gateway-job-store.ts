import { HostSummary, JobEvent } from '@flansible/contracts';
import { CancelResult, CreatedJob, EventQuery, JobListCursor, JobListFilter, JobRecord, NewJob, OutputLines } from './job-records';

/**
 * The store as the gateway sees it (also its DI token): submissions, the outbox, reads for the
 * API, cancel and retention. No claims, appends or heartbeats: those are the runner's
 * (RunnerJobStore). Every state change is a guarded update, so terminal states stay final.
 */
export abstract class GatewayJobStore {
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
  /** History, newest first, keyset-paginated: at most `limit` jobs strictly after `cursor`. */
  abstract listJobs(filter: JobListFilter, limit: number, cursor?: JobListCursor): Promise<JobRecord[]>;

  /** All output stored so far, in the order it was appended ('' when none). */
  abstract readOutput(id: string): Promise<string>;
  /** Lines `from`..`to` (1-based, inclusive, clipped to what exists) in time independent of the output's size. */
  abstract readOutputLines(id: string, from: number, to: number): Promise<OutputLines>;
  /** Events after `query.after`, oldest first, at most `limit`. */
  abstract readEvents(id: string, query: EventQuery): Promise<JobEvent[]>;
  /**
   * Per-host totals, sorted by host: from the final stats event when there is one, else counted
   * from host events as Ansible counts them (a changed result is also ok; a failure with
   * ignore_errors is ok and ignored, not failed; rescued stays 0 until the stats).
   */
  abstract summarize(id: string): Promise<HostSummary[]>;

  /**
   * Cancels a queued job at once (status canceled, it never starts), or marks a running one
   * (cancelRequestedAt) for its runner to stop.
   */
  abstract cancelJob(id: string, reason: string, at: Date): Promise<CancelResult>;
  /** Deletes terminal jobs (with output and events) created before `before`; returns how many. */
  abstract purgeFinishedBefore(before: Date): Promise<number>;

  /** Resolves once the database has answered a trivial query; rejects otherwise (readiness checks). */
  abstract ping(): Promise<void>;
}
