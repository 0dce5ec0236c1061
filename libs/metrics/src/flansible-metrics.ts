import { Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FlansibleConfig } from '@flansible/config';
import { JobKind, JobStatus, TERMINAL_JOB_STATUSES } from '@flansible/contracts';
import { JobQueueStats } from '@flansible/queue';
import { JobRecord, countNewlines } from '@flansible/store';

/** What jobStarted() remembers until the job's outcome is recorded. */
interface StartedJob {
  kind: JobKind;
  startedAt: number;
}

/**
 * The process's Prometheus metrics, one registry per app. Every label value comes from a closed
 * set (job kinds, statuses, HTTP methods and status codes, route templates), never from what a
 * client sends: no user, job id, host or path, so the series stay bounded whatever the traffic.
 */
@Injectable()
export class FlansibleMetrics {
  readonly registry = new Registry();
  private readonly started = new Map<string, StartedJob>();

  private readonly submitted = new Counter({
    name: 'flansible_jobs_submitted_total',
    help: 'Jobs accepted and queued, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly finished = new Counter({
    name: 'flansible_jobs_finished_total',
    help: 'Jobs that reached a terminal status here, by kind and status',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'flansible_job_duration_seconds',
    help: 'Seconds from a job starting to its recorded outcome, by kind and status',
    labelNames: ['kind', 'status'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200],
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'flansible_job_queue_wait_seconds',
    help: 'Seconds from a job being created to a runner starting it',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  private readonly publishFailures = new Counter({
    name: 'flansible_publish_failures_total',
    help: 'Jobs the broker did not take (the submission answered 503)',
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'flansible_http_request_duration_seconds',
    help: 'HTTP requests by method, route template (unmatched: no route) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly streams = new Gauge({
    name: 'flansible_stream_clients',
    help: 'Open Server-Sent Events streams',
    registers: [this.registry],
  });
  private readonly outputLines = new Counter({
    name: 'flansible_output_lines_total',
    help: 'Lines of job output stored',
    registers: [this.registry],
  });

  constructor(config: FlansibleConfig, @Optional() queueStats?: JobQueueStats) {
    const started = this.started;
    new Gauge({
      name: 'flansible_jobs_running',
      help: 'Jobs started in this process whose outcome is not recorded yet',
      registers: [this.registry],
      collect() {
        this.set(started.size);
      },
    });
    new Gauge({
      name: 'flansible_queue_messages',
      help: 'Messages in the job queue and the dead-letter queue, by state (ready: from the broker; unacked: held by this process)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const depth of (await queueStats?.read()) ?? []) this.set({ queue: depth.queue, state: depth.state }, depth.messages);
      },
    });
    // Every kind and outcome reads 0 before it first happens, so rates and alerts have a series.
    for (const kind of Object.values(JobKind)) {
      this.submitted.inc({ kind }, 0);
      for (const status of TERMINAL_JOB_STATUSES) this.finished.inc({ kind, status }, 0);
    }
    if (config.metrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of everything. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  jobSubmitted(kind: JobKind): void {
    this.submitted.inc({ kind });
  }

  /** The broker refused or did not confirm a job. */
  publishFailed(): void {
    this.publishFailures.inc();
  }

  /** A runner claimed the job (its startedAt is set): its wait in the queue, and it counts as running. */
  jobStarted(job: JobRecord): void {
    const startedAt = (job.startedAt ?? new Date()).getTime();
    this.queueWait.observe(Math.max(0, startedAt - job.createdAt.getTime()) / 1000);
    this.started.set(job.id, { kind: job.kind, startedAt });
  }

  /**
   * A started job's outcome was stored: it is no longer running, and, when `counted` (false when
   * another process had already ended it, e.g. as a lost runner's), it counts as finished here.
   */
  jobFinished(jobId: string, status: JobStatus, counted: boolean): void {
    const job = this.started.get(jobId);
    if (!job) return;
    this.started.delete(jobId);
    if (!counted) return;
    this.finished.inc({ kind: job.kind, status });
    this.duration.observe({ kind: job.kind, status }, (Date.now() - job.startedAt) / 1000);
  }

  /** A job ended before any runner started it (canceled while queued): counted, no duration. */
  queuedJobFinished(kind: JobKind, status: JobStatus): void {
    this.finished.inc({ kind, status });
  }

  /** A batch of output was stored. */
  outputStored(chunk: string): void {
    this.outputLines.inc(countNewlines(chunk));
  }

  /** An SSE stream opened; call the returned function once when it closes. */
  streamOpened(): () => void {
    this.streams.inc();
    let open = true;
    return () => {
      if (open) this.streams.dec();
      open = false;
    };
  }

  httpRequestServed(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }
}
