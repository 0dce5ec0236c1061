/** Lifecycle of a job (design.md): queued → running → one terminal state. */
export const JobStatus = {
  Queued: 'queued',
  Running: 'running',
  Successful: 'successful',
  Failed: 'failed',
  Canceled: 'canceled',
  TimedOut: 'timed_out',
  Error: 'error',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export type TerminalJobStatus = Exclude<JobStatus, 'queued' | 'running'>;

export const TERMINAL_JOB_STATUSES: readonly TerminalJobStatus[] = [
  JobStatus.Successful,
  JobStatus.Failed,
  JobStatus.Canceled,
  JobStatus.TimedOut,
  JobStatus.Error,
];

export function isTerminalStatus(status: JobStatus): status is TerminalJobStatus {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

/** The three values the original Flansible status endpoint reports. */
export const FlansibleTaskStatus = {
  Progress: 'PROGRESS',
  Success: 'SUCCESS',
  Failure: 'FLANSIBLE_TASK_FAILURE',
} as const;
export type FlansibleTaskStatus = (typeof FlansibleTaskStatus)[keyof typeof FlansibleTaskStatus];

export function toFlansibleTaskStatus(status: JobStatus): FlansibleTaskStatus {
  if (status === JobStatus.Successful) return FlansibleTaskStatus.Success;
  return isTerminalStatus(status) ? FlansibleTaskStatus.Failure : FlansibleTaskStatus.Progress;
}

/** How a finished job ended: what the runner records. */
export interface JobOutcome {
  status: TerminalJobStatus;
  /** One-line human reason; null only for a successful job. */
  reason: string | null;
  returnCode: number | null;
  /**
   * How the job's Ansible started: `warm` (forked from an interpreter that had imported Ansible)
   * or `cold` (a new process; git jobs too). Absent when nothing was started.
   */
  launchPath?: LaunchPath;
}

export const LaunchPath = { Warm: 'warm', Cold: 'cold' } as const;
export type LaunchPath = (typeof LaunchPath)[keyof typeof LaunchPath];
