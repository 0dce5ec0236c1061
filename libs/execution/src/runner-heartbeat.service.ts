import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { RunnerJobStore } from '@flansible/store';
import { JobRunnerService } from './job-runner.service';
import { LostRunnerSweeper } from './lost-runner-sweeper';
import { RUNNER_HEARTBEAT_OPTIONS, RunnerHeartbeatOptions, runnerLiveness } from './runner-liveness-options';
import { RunnerStartupRecovery } from './runner-startup-recovery';

/**
 * Keeps this runner's heartbeat in the store, so that no job stays running after a runner dies:
 * - at start, records a first heartbeat (before any job is claimed), lets the deployment's
 *   RunnerStartupRecovery (if any) settle its predecessor's jobs, then sweeps for lost runners;
 * - every heartbeatSeconds, records a heartbeat and stops the jobs running here whose cancel was
 *   requested in the store (the fallback when the bus's cancel request was lost);
 * - every few heartbeats, has the LostRunnerSweeper end the jobs of lost runners and those this
 *   runner abandoned;
 * - on a clean shutdown, once the runner has recorded its jobs, removes itself.
 */
@Injectable()
export class RunnerHeartbeatService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunnerHeartbeatService.name);
  private readonly heartbeatMs: number;
  private readonly sweepEveryBeats: number;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private beats = 0;
  private stopped = false;

  constructor(
    private readonly store: RunnerJobStore,
    private readonly runner: JobRunnerService,
    private readonly sweeper: LostRunnerSweeper,
    config: FlansibleConfig,
    @Optional() @Inject(RUNNER_HEARTBEAT_OPTIONS) options?: RunnerHeartbeatOptions,
    @Optional() private readonly startupRecovery?: RunnerStartupRecovery,
  ) {
    ({ heartbeatMs: this.heartbeatMs, sweepEveryBeats: this.sweepEveryBeats } = runnerLiveness(config, options));
  }

  get runnerId(): string {
    return this.runner.runnerId;
  }

  /** Runs before any onApplicationBootstrap: the heartbeat exists before the runner claims a job. */
  async onModuleInit(): Promise<void> {
    const beating = await this.recordHeartbeat();
    // The deployment's own reason for its predecessor's jobs comes before the sweep's generic one.
    await this.startupRecovery?.recover();
    if (beating) await this.sweeper.failJobsOfLostRunners();
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    // Beats go on while the runner stops its jobs (they take up to the kill grace period).
    await this.runner.shutdown();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.beating;
    try {
      await this.store.removeRunner(this.runnerId);
    } catch (err) {
      this.logger.error(`Could not remove runner ${this.runnerId} from the store: ${(err as Error).message}`);
    }
  }

  /** One heartbeat: record it, stop canceled jobs, and now and then look for lost runners. */
  async beat(): Promise<void> {
    if (!(await this.recordHeartbeat())) return;
    await this.stopCanceledJobs();
    if (++this.beats % this.sweepEveryBeats === 0) {
      await this.sweeper.failJobsOfLostRunners();
      await this.sweeper.endAbandonedJobs();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    // A chain of timeouts rather than an interval: a slow store never piles beats up.
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = null;
        this.schedule();
      });
    }, this.heartbeatMs);
    this.timer.unref();
  }

  private async recordHeartbeat(): Promise<boolean> {
    try {
      await this.store.recordHeartbeat(this.runnerId, new Date());
      return true;
    } catch (err) {
      this.logger.error(`Could not record the heartbeat of runner ${this.runnerId}: ${(err as Error).message}`);
      return false;
    }
  }

  private async stopCanceledJobs(): Promise<void> {
    try {
      // With the request's own reason, as when the bus message arrives first (it may still).
      for (const jobId of await this.store.findCancelRequests(this.runnerId)) await this.runner.cancelIfRequested(jobId);
    } catch (err) {
      this.logger.error(`Could not look for cancel requests: ${(err as Error).message}`);
    }
  }
}
