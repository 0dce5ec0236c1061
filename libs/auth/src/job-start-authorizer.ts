import { Injectable } from '@nestjs/common';
import { JobSpec } from '@flansible/contracts';
import { JobPolicyService } from './job-policy.service';
import { RbacService } from './rbac.service';

/** What the re-check needs of a stored job. */
export interface StartingJob {
  submittedBy: string;
  spec: JobSpec;
}

/**
 * The runner's check when a job is about to start: may its submitter, as rbac.json says now,
 * still run exactly the stored spec? Rights granted at submission may have been taken away
 * while the job waited in the queue.
 */
@Injectable()
export class JobStartAuthorizer {
  constructor(
    private readonly rbac: RbacService,
    private readonly policy: JobPolicyService,
  ) {}

  /** Null when the job may start, else the reason it ends as error ("submitter no longer allowed: ..."). */
  refusal(job: StartingJob): string | null {
    return this.policy.reauthorize(this.rbac.userNamed(job.submittedBy), job.spec);
  }
}
