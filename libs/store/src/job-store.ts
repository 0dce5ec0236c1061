import { JobKind, JobOutcome, JobSpec, JobStatus } from '@flansible/contracts';

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
}

export interface NewJob {
  id: string;
  submittedBy: string;
  spec: JobSpec;
  createdAt: Date;
}

/**
 * The results store port: SQLite in the embedded deployment, PostgreSQL in the distributed one.
 * Also the DI token. Every state change is a guarded update, so terminal states stay final and a
 * job is claimed by one runner at most.
 */
export abstract class JobStore {
  /** Creates the schema or migrates it to the current version. Called once at start. */
  abstract migrate(): Promise<void>;
  /** Inserts a job in state queued. */
  abstract createJob(job: NewJob): Promise<void>;
  /** Removes a job and its output: the rollback when a job could not be queued. */
  abstract deleteJob(id: string): Promise<void>;
  abstract findJob(id: string): Promise<JobRecord | undefined>;
  /** Jobs in any of the given states, oldest first (recovery at start of the embedded deployment). */
  abstract findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]>;
  /** queued → running for this runner. False when the job is not queued (already started, finished or gone). */
  abstract claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean>;
  /** queued|running → terminal. False when the job already was terminal (terminal states are final). */
  abstract completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean>;
  /** Appends one batch of output; cost proportional to the batch, not to what is already stored. */
  abstract appendOutput(id: string, chunk: string): Promise<void>;
  /** All output stored so far, in the order it was appended ('' when none). */
  abstract readOutput(id: string): Promise<string>;
  abstract close(): Promise<void>;
}
