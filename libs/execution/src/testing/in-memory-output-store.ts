import { JobOutcome, JobStatus } from '@flansible/contracts';
import { JobRecord, JobStore, NewJob } from '@flansible/store';

/**
 * A tiny in-memory JobStore for the process runner's unit specs only (the real adapters have
 * their own specs against SQLite and PostgreSQL). Records every append, checks they never overlap,
 * and can be made slow or failing.
 */
export class InMemoryOutputStore extends JobStore {
  readonly appends: { jobId: string; chunk: string; at: number }[] = [];
  /** Most appends in progress at once for one job: must stay 1. */
  maxConcurrentAppends = 0;
  appendDelayMs = 0;
  failAppends = 0;
  /** Called with each stored chunk. */
  onAppend?: (chunk: string) => void;
  private inProgress = 0;
  private readonly jobs = new Map<string, JobRecord>();

  async migrate(): Promise<void> {}
  async createJob(job: NewJob): Promise<void> {
    this.jobs.set(job.id, {
      id: job.id,
      kind: job.spec.kind,
      status: JobStatus.Queued,
      reason: null,
      returnCode: null,
      submittedBy: job.submittedBy,
      inventory: null,
      spec: job.spec,
      runnerId: null,
      createdAt: job.createdAt,
      startedAt: null,
      finishedAt: null,
    });
  }
  async deleteJob(id: string): Promise<void> {
    this.jobs.delete(id);
  }
  async findJob(id: string): Promise<JobRecord | undefined> {
    return this.jobs.get(id);
  }
  async findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]> {
    return [...this.jobs.values()].filter((j) => statuses.includes(j.status));
  }
  async claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean> {
    const job = this.jobs.get(id);
    if (job?.status !== JobStatus.Queued) return false;
    Object.assign(job, { status: JobStatus.Running, runnerId, startedAt });
    return true;
  }
  async completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job || (job.status !== JobStatus.Queued && job.status !== JobStatus.Running)) return false;
    Object.assign(job, { ...outcome, finishedAt });
    return true;
  }
  async appendOutput(jobId: string, chunk: string): Promise<void> {
    this.inProgress++;
    this.maxConcurrentAppends = Math.max(this.maxConcurrentAppends, this.inProgress);
    try {
      if (this.appendDelayMs) await new Promise((resolve) => setTimeout(resolve, this.appendDelayMs));
      if (this.failAppends > 0) {
        this.failAppends--;
        throw new Error('store unavailable');
      }
      this.appends.push({ jobId, chunk, at: Date.now() });
      this.onAppend?.(chunk);
    } finally {
      this.inProgress--;
    }
  }
  async readOutput(jobId: string): Promise<string> {
    return this.appends
      .filter((a) => a.jobId === jobId)
      .map((a) => a.chunk)
      .join('');
  }
  async close(): Promise<void> {}
}
