import { ForbiddenException, Injectable, Logger } from '@nestjs/common';
import { AuthenticatedUser, JobPolicyService } from '@flansible/auth';
import { JobStatus } from '@flansible/contracts';
import { FlansibleMetrics } from '@flansible/metrics';
import { JobCancelBus, JobNoticeBus } from '@flansible/queue';
import { GatewayJobStore } from '@flansible/store';
import { JobResourceDto } from './dto/job-resource.dto';
import { JobQueryService } from './job-query.service';

/**
 * Cancels jobs: a queued one at once in the store, a running one through its runner. Only the
 * submitter or an admin may.
 */
@Injectable()
export class JobControlService {
  private readonly logger = new Logger(JobControlService.name);

  constructor(
    private readonly store: GatewayJobStore,
    private readonly notices: JobNoticeBus,
    private readonly cancels: JobCancelBus,
    private readonly query: JobQueryService,
    private readonly policy: JobPolicyService,
    private readonly metrics: FlansibleMetrics,
  ) {}

  async cancel(user: AuthenticatedUser, id: string): Promise<JobResourceDto> {
    // 404 first for a job the user may not read, so a 403 reveals only what reading does.
    const job = await this.query.getJob(user, id);
    if (!this.policy.canControl(user, job)) throw new ForbiddenException('Only the user who submitted this job or an admin may cancel it');
    const reason = `Canceled by ${user.name}`;
    const result = await this.store.cancelJob(id, reason, new Date());
    if (result === 'canceled') {
      this.metrics.queuedJobFinished(job.kind, JobStatus.Canceled);
      this.notices.notify({ jobId: id, what: 'status' });
    } else if (result === 'requested') {
      // The store keeps the request too, so a runner that misses this message still sees it.
      await this.cancels.requestCancel({ jobId: id, reason }).catch((err: Error) =>
        this.logger.warn(`Cancel of ${id} not broadcast (${err.message}); its runner will find the request in the store`),
      );
    }
    this.logger.log(`Cancel of job ${id} by ${user.name}: ${result}`);
    return this.query.getJobResource(user, id);
  }
}
