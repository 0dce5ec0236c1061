import { HttpStatus, Injectable } from '@nestjs/common';
import { AuthenticatedUser } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { GatewayJobStore } from '@flansible/store';
import { OneAtATime } from '../common/one-at-a-time';
import { RetryLaterError } from '../common/retry-later.error';

/** Seconds a refused submitter is asked to wait: jobs take that long or more to finish. */
export const JOB_LIMIT_RETRY_AFTER_SECONDS = 30;

/** The user already has max_jobs_per_user jobs queued or running: answered 429 with Retry-After. */
export class JobLimitReachedError extends RetryLaterError {
  readonly status = HttpStatus.TOO_MANY_REQUESTS;
  readonly retryAfterSeconds = JOB_LIMIT_RETRY_AFTER_SECONDS;
}

/**
 * The per-user job limit (max_jobs_per_user, admins included: it protects the service). Counted
 * from the store, so it holds across gateways and restarts.
 */
@Injectable()
export class JobQuotaService {
  /** Per user, one count-then-create at a time. */
  private readonly perUser = new OneAtATime();

  constructor(
    private readonly config: FlansibleConfig,
    private readonly store: GatewayJobStore,
  ) {}

  /**
   * Runs `create` (which stores the job) only while the user is below the limit, else throws
   * JobLimitReachedError and stores nothing. One user's count-then-create steps run one at a time
   * in this process, so concurrent requests cannot all pass one count; several gateways may
   * still overshoot by one job each at most.
   */
  async withinLimit<T>(user: AuthenticatedUser, create: () => Promise<T>): Promise<T> {
    return this.perUser.run(user.name, async () => {
      const open = await this.store.countOpenJobs(user.name);
      if (open >= this.config.maxJobsPerUser) {
        throw new JobLimitReachedError(
          `User ${user.name} already has ${open} jobs queued or running (max_jobs_per_user is ${this.config.maxJobsPerUser}); ` +
            'try again once some have finished',
        );
      }
      return create();
    });
  }
}
