import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobStatus } from '@flansible/contracts';
import { RunnerJobStore } from '@flansible/store';
import { JobOutboxService } from '../outbox/job-outbox.service';

/**
 * The in-process queue lives in memory, so in the embedded deployment the store is what survives
 * a restart: jobs still queued are queued again. (Jobs left running: EmbeddedCrashRecovery.)
 */
@Injectable()
export class EmbeddedRequeueService implements OnApplicationBootstrap {
  private readonly logger = new Logger(EmbeddedRequeueService.name);

  constructor(
    private readonly store: RunnerJobStore,
    private readonly outbox: JobOutboxService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const queued = await this.store.findJobsByStatus([JobStatus.Queued]);
    // Published again whether or not they were before: the queue that held them is gone.
    for (const job of queued) await this.outbox.publish(job);
    if (queued.length) this.logger.log(`Queued again ${queued.length} job(s) left from before the restart`);
  }
}
