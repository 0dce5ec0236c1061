import { HostSummary, JobEvent, JobEventType, JobOutcome, JobStatus, NewJobEvent, isTerminalStatus } from '@flansible/contracts';
import { GatewayJobStore, JobRecord, JobStore, NewJob, RunnerJobStore } from '@flansible/store';

// The store's index may not re-export every type of the port yet: derived from its signatures.
type CreatedJob = Awaited<ReturnType<JobStore['createJob']>>;
type CancelResult = Awaited<ReturnType<JobStore['cancelJob']>>;
type OutputLines = Awaited<ReturnType<JobStore['readOutputLines']>>;
type EventQuery = Parameters<JobStore['readEvents']>[1];

/**
 * A tiny in-memory JobStore for the execution specs only (the real adapters have their own specs
 * against SQLite and PostgreSQL). Records every append, checks they never overlap, and can be
 * made slow or failing. Enough of the port for the runner: jobs, output, events, cancel requests,
 * heartbeats and lost runners; not the faces the runner never uses (API tokens, webhooks).
 */
export class InMemoryOutputStore implements GatewayJobStore, RunnerJobStore {
  readonly appends: { jobId: string; chunk: string; at: number }[] = [];
  /** Every appendEvents call, in order. */
  readonly eventAppends: { jobId: string; events: NewJobEvent[]; at: number }[] = [];
  /** Most appends in progress at once for one job: must stay 1. */
  maxConcurrentAppends = 0;
  appendDelayMs = 0;
  failAppends = 0;
  /** Called with each stored chunk. */
  onAppend?: (chunk: string) => void;
  /** Last heartbeat of each runner. */
  readonly heartbeats = new Map<string, Date>();
  private inProgress = 0;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly published = new Set<string>();
  private readonly events = new Map<string, JobEvent[]>();

  async migrate(): Promise<void> {}
  async createJob(job: NewJob): Promise<CreatedJob> {
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
      priority: job.priority ?? 0,
      cancelRequestedAt: null,
      cancelReason: null,
      requestId: job.requestId ?? null,
      relaunchOf: job.relaunchOf ?? null,
      launchPath: null,
      outputLines: 0,
      eventCount: 0,
    });
    return { id: job.id, created: true };
  }
  async confirmIdempotencyKey(): Promise<void> {}
  async markPublished(id: string): Promise<void> {
    if (this.jobs.has(id)) this.published.add(id);
  }
  async findUnpublishedJobs(createdBefore: Date, limit: number): Promise<JobRecord[]> {
    return [...this.jobs.values()]
      .filter((j) => j.status === JobStatus.Queued && !this.published.has(j.id) && j.createdAt < createdBefore)
      .slice(0, limit)
      .map((j) => ({ ...j }));
  }
  async deleteJob(id: string): Promise<void> {
    this.published.delete(id);
    this.jobs.delete(id);
    this.events.delete(id);
  }
  async findJob(id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return job && { ...job };
  }
  async countOpenJobs(submittedBy: string): Promise<number> {
    return [...this.jobs.values()].filter((j) => j.submittedBy === submittedBy && (j.status === JobStatus.Queued || j.status === JobStatus.Running)).length;
  }
  async findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]> {
    return [...this.jobs.values()].filter((j) => statuses.includes(j.status)).map((j) => ({ ...j }));
  }
  async claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean> {
    const job = this.jobs.get(id);
    if (job?.status !== JobStatus.Queued) return false;
    Object.assign(job, { status: JobStatus.Running, runnerId, startedAt });
    return true;
  }
  async claimNextJob(runnerId: string, startedAt: Date, preferredId?: string): Promise<JobRecord | null> {
    const all = [...this.jobs.values()];
    const running = (user: string) => all.filter((j) => j.status === JobStatus.Running && j.submittedBy === user).length;
    const [next] = all
      .filter((j) => j.status === JobStatus.Queued)
      .sort(
        (a, b) =>
          running(a.submittedBy) - running(b.submittedBy) ||
          Number(b.id === preferredId) - Number(a.id === preferredId) ||
          b.priority - a.priority ||
          a.createdAt.getTime() - b.createdAt.getTime(),
      );
    if (!next) return null;
    Object.assign(next, { status: JobStatus.Running, runnerId, startedAt });
    return { ...next };
  }
  async completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job || isTerminalStatus(job.status)) return false;
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
  async readOutputLines(jobId: string, from: number, to: number): Promise<OutputLines> {
    const text = await this.readOutput(jobId);
    const all = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    const start = Math.max(1, from);
    return {
      lines: all.slice(start - 1, Math.max(start - 1, to)),
      from: start,
      totalLines: all.length,
      endsWithNewline: text === '' || text.endsWith('\n'),
    };
  }

  async appendEvents(jobId: string, events: NewJobEvent[]): Promise<void> {
    this.eventAppends.push({ jobId, events, at: Date.now() });
    const stored = this.events.get(jobId) ?? [];
    for (const event of events) stored.push({ ...event, counter: stored.length + 1 });
    this.events.set(jobId, stored);
    const job = this.jobs.get(jobId);
    if (job) job.eventCount = stored.length;
  }
  async readEvents(jobId: string, query: EventQuery): Promise<JobEvent[]> {
    return (this.events.get(jobId) ?? [])
      .filter((e) => e.counter > (query.after ?? 0))
      .filter((e) => query.host === undefined || e.host === query.host)
      .filter((e) => !query.types || query.types.includes(e.type))
      .slice(0, query.limit);
  }
  async summarize(jobId: string): Promise<HostSummary[]> {
    const events = this.events.get(jobId) ?? [];
    const stats = [...events].reverse().find((e) => e.type === JobEventType.Stats);
    const hosts = (stats?.data.hosts ?? {}) as Record<string, Record<string, number>>;
    return Object.entries(hosts).map(([host, s]) => ({
      host,
      ok: s.ok ?? 0,
      changed: s.changed ?? 0,
      failed: s.failures ?? 0,
      unreachable: s.unreachable ?? 0,
      skipped: s.skipped ?? 0,
      rescued: s.rescued ?? 0,
      ignored: s.ignored ?? 0,
    }));
  }
  async listJobs(): Promise<JobRecord[]> {
    return [...this.jobs.values()].map((j) => ({ ...j }));
  }

  async cancelJob(id: string, reason: string, at: Date): Promise<CancelResult> {
    const job = this.jobs.get(id);
    if (!job) return 'not-found';
    if (isTerminalStatus(job.status)) return 'already-final';
    if (job.status === JobStatus.Queued) {
      Object.assign(job, { status: JobStatus.Canceled, reason, finishedAt: at });
      return 'canceled';
    }
    job.cancelRequestedAt ??= at;
    job.cancelReason ??= reason;
    return 'requested';
  }
  async findCancelRequests(runnerId: string): Promise<string[]> {
    return [...this.jobs.values()]
      .filter((j) => j.runnerId === runnerId && j.status === JobStatus.Running && j.cancelRequestedAt !== null)
      .map((j) => j.id);
  }

  async findJobsRunningOn(runnerId: string): Promise<string[]> {
    return [...this.jobs.values()].filter((j) => j.runnerId === runnerId && j.status === JobStatus.Running).map((j) => j.id);
  }

  async recordHeartbeat(runnerId: string, at: Date): Promise<void> {
    this.heartbeats.set(runnerId, at);
  }
  async removeRunner(runnerId: string): Promise<void> {
    this.heartbeats.delete(runnerId);
  }
  async failJobsOfLostRunners(staleBefore: Date, reason: string, at: Date): Promise<string[]> {
    const failed: string[] = [];
    for (const job of this.jobs.values()) {
      if (job.status !== JobStatus.Running || job.runnerId === null) continue;
      const beat = this.heartbeats.get(job.runnerId);
      if (beat && beat >= staleBefore) continue;
      Object.assign(job, { status: JobStatus.Error, reason: reason.replace('{runner}', job.runnerId), returnCode: null, finishedAt: at });
      failed.push(job.id);
    }
    return failed;
  }
  async forgetSilentRunners(before: Date): Promise<number> {
    const named = new Set([...this.jobs.values()].filter((j) => j.status === JobStatus.Running).map((j) => j.runnerId));
    const silent = [...this.heartbeats].filter(([id, beat]) => beat < before && !named.has(id));
    for (const [id] of silent) this.heartbeats.delete(id);
    return silent.length;
  }

  async purgeFinishedBefore(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
  async ping(): Promise<void> {}
}

/** The same store under the name that says what it has become. */
export { InMemoryOutputStore as InMemoryJobStore };
