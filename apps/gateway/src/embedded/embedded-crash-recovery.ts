import { Injectable, Logger } from '@nestjs/common';
import { JobStatus } from '@flansible/contracts';
import { RunnerStartupRecovery } from '@flansible/execution';
import { RunnerJobStore } from '@flansible/store';

/**
 * In the embedded deployment the runner restarts with the gateway, so a job the store shows
 * running was running when Flansible stopped: it ends as error, saying so, before the runner's
 * start-up sweep could call its runner merely "lost".
 */
@Injectable()
export class EmbeddedCrashRecovery extends RunnerStartupRecovery {
  private readonly logger = new Logger(EmbeddedCrashRecovery.name);

  constructor(private readonly store: RunnerJobStore) {
    super();
  }

  async recover(): Promise<void> {
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
  }
}
