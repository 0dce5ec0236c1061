import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JOB_MESSAGE_SCHEMA_VERSION, JobMessage } from '@flansible/contracts';
import { JobQueue } from '@flansible/queue';
import { GatewayJobStore, JobRecord } from '@flansible/store';

/** Orphans published per sweep; more wait for the next one. */
const SWEEP_BATCH = 100;
/** The sweep never runs more often than this, however short the publish timeout. */
const MIN_SWEEP_INTERVAL_MS = 1_000;

/** The message of a stored job, as the gateway published it. */
export function jobMessageOf(job: JobRecord): JobMessage {
  return {
    schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
    jobId: job.id,
    submittedBy: job.submittedBy,
    submittedAt: job.createdAt.toISOString(),
    spec: job.spec,
    ...(job.requestId ? { requestId: job.requestId } : {}),
  };
}

/**
 * The reconciler of the transactional outbox. A job row is stored queued and unpublished, and
 * marked published once the broker confirmed its message; a gateway that dies in between (kill -9,
 * a crash, a lost machine) leaves a queued row with no message anywhere. Every gateway, in both
 * deployments, looks every `publish_timeout_ms` (at least every second) for rows unpublished for
 * twice `publish_timeout_ms` (by then their own gateway has either had the confirm or given up and
 * removed the row), publishes them and marks them published. So an orphan waits at most three
 * publish timeouts plus its publish (9-12 s by default) while a gateway and the broker are up, and
 * an idempotent retry that finds one answers with a job that will run. Several gateways may publish the same
 * orphan at once: the runner's claim makes the extra message a no-op.
 */
@Injectable()
export class JobOutboxService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobOutboxService.name);
  /** A row unpublished this long after its creation is an orphan. */
  readonly orphanAfterMs: number;
  readonly sweepIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(
    config: FlansibleConfig,
    private readonly store: GatewayJobStore,
    private readonly queue: JobQueue,
  ) {
    this.orphanAfterMs = 2 * config.publishTimeoutMs;
    this.sweepIntervalMs = Math.max(MIN_SWEEP_INTERVAL_MS, config.publishTimeoutMs);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** Publishes a stored job's message and marks it published (the sweep, and the embedded recovery). */
  async publish(job: JobRecord): Promise<void> {
    await this.queue.publish(jobMessageOf(job));
    try {
      await this.store.markPublished(job.id, new Date());
    } catch (err) {
      // Only costs a second message later: the runner's claim makes it a no-op.
      this.logger.warn(`Job ${job.id} published but not marked so: ${(err as Error).message}; the next sweep publishes it again`);
    }
  }

  /** One look for orphans; resolves with how many were published. Never overlaps itself. */
  sweep(): Promise<number> {
    this.sweeping ??= this.publishOrphans().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async publishOrphans(): Promise<number> {
    const now = Date.now();
    let orphans: JobRecord[];
    try {
      orphans = await this.store.findUnpublishedJobs(new Date(now - this.orphanAfterMs), SWEEP_BATCH);
    } catch (err) {
      this.logger.error(`Could not look for jobs never published: ${(err as Error).message}`);
      return 0;
    }
    let published = 0;
    for (const job of orphans) {
      try {
        await this.publish(job);
      } catch (err) {
        // The broker is unavailable: the next sweep tries again, these and any others.
        this.logger.warn(`Could not publish job ${job.id}, stored but never published: ${(err as Error).message}`);
        break;
      }
      published++;
      const age = ((now - job.createdAt.getTime()) / 1000).toFixed(1);
      this.logger.warn(`Published job ${job.id}: stored ${age} s ago, its message was never confirmed (its gateway stopped before)`);
    }
    return published;
  }
}
