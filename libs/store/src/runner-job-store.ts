import { JobOutcome, JobStatus, NewJobEvent } from '@flansible/contracts';
import { JobRecord } from './job-records';

/**
 * The store as a runner sees it (also its DI token): claims, output and events, outcomes, cancel
 * requests and heartbeats. Also what the embedded deployment's recovery uses, since it ends the
 * jobs its own runner left running. A job is claimed by one runner at most, and terminal states
 * stay final: every state change is a guarded update.
 */
export abstract class RunnerJobStore {
  abstract findJob(id: string): Promise<JobRecord | undefined>;
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
  /** Appends events in order, numbering them after the job's last counter (one writer per job: its runner). */
  abstract appendEvents(id: string, events: NewJobEvent[]): Promise<void>;

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

  /** Resolves once the database has answered a trivial query; rejects otherwise (readiness checks). */
  abstract ping(): Promise<void>;
}
