import { ConflictException, ForbiddenException, Injectable } from '@nestjs/common';
import { AuthenticatedUser, JobPolicyService } from '@flansible/auth';
import { isTerminalStatus, JobKind } from '@flansible/contracts';
import { GatewayJobStore } from '@flansible/store';
import { JobQueryService } from './job-query.service';
import { JobSubmissionService, SubmitOptions, SubmittedJob } from './job-submission.service';
import { relaunchHostNames, RelaunchHosts } from './relaunch-hosts';

/**
 * Relaunches a finished job on some of its hosts (all, failed, unreachable, or both, as its
 * per-host results say): the same request again, narrowed to those hosts by name, submitted
 * through JobSubmissionService like any other (rights of now, quota, idempotency, publish).
 */
@Injectable()
export class JobRelaunchService {
  constructor(
    private readonly store: GatewayJobStore,
    private readonly query: JobQueryService,
    private readonly policy: JobPolicyService,
    private readonly submission: JobSubmissionService,
  ) {}

  async relaunch(user: AuthenticatedUser, id: string, which: RelaunchHosts, options: SubmitOptions = {}): Promise<SubmittedJob> {
    // 404 first for a job the user may not read, so a 403 reveals only what reading does.
    const job = await this.query.getJob(user, id);
    if (!this.policy.canRelaunch(user, job)) throw new ForbiddenException('Only the user who submitted this job or an admin may relaunch it');
    const { spec } = job;
    if (spec.kind === JobKind.Git) throw new ConflictException(`Job ${id} is a git update: it has no hosts to relaunch`);
    if (!isTerminalStatus(job.status)) throw new ConflictException(`Job ${id} has not finished (${job.status}): relaunch it once it has`);
    const hosts = relaunchHostNames(await this.store.summarize(id), which, spec.limitHosts);
    if (hosts.length === 0) throw new ConflictException(`No host of job ${id} matches hosts=${which}`);
    return this.submission.resubmit(user, spec, { of: id, hosts }, options);
  }
}
