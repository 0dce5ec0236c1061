import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobStatus } from '@flansible/contracts';
import { RunnerJobStore } from '@flansible/store';
import { JobOutboxService } from '../outbox/job-outbox.service';

/**
 * The in-process queue lives in memory, so in the embedded deployment the store is what
 * survives a restart: jobs still queued are queued again, and jobs that were running when the
 * process stopped end as error instead of staying "running" for ever.
 */
@Injectable()
export class EmbeddedRecoveryService implements OnApplicationBootstrap {
  private readonly logger = new Logger(EmbeddedRecoveryService.name);

  constructor(
    private readonly store: RunnerJobStore,
    private readonly outbox: JobOutboxService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const job of await this.store.findJobsByStatus([JobStatus.Running])) {
      await this.store.completeJob(
        job.id,
        {
          status: JobStatus.Error,
          // The supervisor of each job's processes stopped them when that process died.
          reason: `Its runner ${job.runnerId ?? 'unknown'} stopped while the job was running (Flansible restarted); its processes were stopped with it`,
          returnCode: null,
        },
        new Date(),
      );
      this.logger.warn(`Job ${job.id} was running when Flansible stopped: marked error`);
    }
    const queued = await this.store.findJobsByStatus([JobStatus.Queued]);
    // Published again whether or not they were before: the queue that held them is gone.
    for (const job of queued) await this.outbox.publish(job);
    if (queued.length) this.logger.log(`Queued again ${queued.length} job(s) left from before the restart`);
  }
}
