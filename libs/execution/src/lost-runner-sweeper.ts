import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobStatus } from '@flansible/contracts';
import { JobNoticeBus } from '@flansible/queue';
import { RunnerJobStore } from '@flansible/store';
import { JobRunnerService } from './job-runner.service';
import { RUNNER_HEARTBEAT_OPTIONS, RunnerHeartbeatOptions, runnerLiveness } from './runner-liveness-options';

/** Where the store writes the lost runner's id into the reason (one UPDATE for every lost job). */
export const RUNNER_PLACEHOLDER = '{runner}';

/** The reason a job of a lost runner ends with (one reason for every lost runner of a sweep). */
export function lostRunnerReason(lostAfterMs: number, runnerId: string = RUNNER_PLACEHOLDER): string {
  return `Its runner ${runnerId} was lost (no heartbeat for ${lostAfterMs / 1000} s); its processes were stopped with it`;
}

/** The reason a job ends with when the store shows it running on a live runner that no longer runs it. */
export function abandonedJobReason(runnerId: string): string {
  return `Its runner ${runnerId} is alive but no longer runs it: its outcome was never recorded`;
}

/**
 * Makes sure no job stays running without a runner that runs it: ends as error the jobs of runners
 * silent for longer than runnerLostAfterSeconds (any runner's, a crashed predecessor's included),
 * and those the store shows running on this runner although it no longer runs them.
 * RunnerHeartbeatService calls it at start and every few heartbeats.
 */
@Injectable()
export class LostRunnerSweeper {
  private readonly logger = new Logger(LostRunnerSweeper.name);
  private readonly lostAfterMs: number;

  constructor(
    private readonly store: RunnerJobStore,
    private readonly runner: JobRunnerService,
    private readonly bus: JobNoticeBus,
    config: FlansibleConfig,
    @Optional() @Inject(RUNNER_HEARTBEAT_OPTIONS) options?: RunnerHeartbeatOptions,
  ) {
    this.lostAfterMs = runnerLiveness(config, options).lostAfterMs;
  }

  private get runnerId(): string {
    return this.runner.runnerId;
  }

  private notify(jobId: string): void {
    try {
      this.bus.notify({ jobId, what: 'status' });
    } catch {
      // a hint only
    }
  }

  /**
   * Ends as error the jobs the store holds as running on this runner that this process neither
   * runs nor is recording (an outcome lost to a fault); returns their ids. The runner's claim
   * mark keeps a job claimed but not yet registered here from being taken for one.
   */
  async endAbandonedJobs(): Promise<string[]> {
    const mark = this.runner.claimMark();
    if (mark === null) return [];
    let abandoned: string[];
    try {
      abandoned = this.runner.jobsNoLongerHeld(await this.store.findJobsRunningOn(this.runnerId), mark);
    } catch (err) {
      this.logger.error(`Could not look for jobs this runner no longer runs: ${(err as Error).message}`);
      return [];
    }
    const ended: string[] = [];
    const outcome = { status: JobStatus.Error, reason: abandonedJobReason(this.runnerId), returnCode: null };
    for (const jobId of abandoned) {
      try {
        // Guarded: a job that reached a terminal state meanwhile keeps it.
        if (!(await this.store.completeJob(jobId, outcome, new Date()))) continue;
      } catch (err) {
        this.logger.error(`Could not end job ${jobId}, which this runner no longer runs: ${(err as Error).message}`);
        continue;
      }
      ended.push(jobId);
      this.logger.warn(`Job ${jobId} ended as error: the store showed it running here, but this runner no longer runs it`);
      this.notify(jobId);
    }
    return ended;
  }

  /** Ends the jobs of lost runners as error; returns their ids. */
  async failJobsOfLostRunners(): Promise<string[]> {
    const now = new Date();
    const reason = lostRunnerReason(this.lostAfterMs);
    let failed: string[];
    try {
      failed = await this.store.failJobsOfLostRunners(new Date(now.getTime() - this.lostAfterMs), reason, now);
    } catch (err) {
      this.logger.error(`Could not look for lost runners: ${(err as Error).message}`);
      return [];
    }
    try {
      // Rows of runners long gone (ten times the loss limit) go, instead of staying for ever.
      const forgotten = await this.store.forgetSilentRunners(new Date(now.getTime() - 10 * this.lostAfterMs));
      if (forgotten) this.logger.log(`Forgot ${forgotten} runner(s) silent for more than ${(10 * this.lostAfterMs) / 1000} s`);
    } catch (err) {
      this.logger.error(`Could not forget silent runners: ${(err as Error).message}`);
    }
    for (const jobId of failed) {
      this.logger.warn(`Job ${jobId} ended as error: its runner was lost (no heartbeat for ${this.lostAfterMs / 1000} s)`);
      // This runner's own heartbeat was late (a store outage): its job is over in the store, so it stops here too.
      this.runner.interrupt(jobId, JobStatus.Error, lostRunnerReason(this.lostAfterMs, this.runnerId));
      this.notify(jobId);
    }
    return failed;
  }
}
