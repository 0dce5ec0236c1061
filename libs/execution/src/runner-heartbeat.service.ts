import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobStatus } from '@flansible/contracts';
import { JobNoticeBus } from '@flansible/queue';
import { RunnerJobStore } from '@flansible/store';
import { JobRunnerService } from './job-runner.service';
import { RunnerStartupRecovery } from './runner-startup-recovery';

/** Test seams; production takes its timings from the configuration. */
export interface RunnerHeartbeatOptions {
  /** Between two heartbeats (default: config.heartbeatSeconds). */
  heartbeatMs?: number;
  /** A runner silent this long is lost (default: config.runnerLostAfterSeconds). */
  lostAfterMs?: number;
  /** Look for lost runners every this many heartbeats (default 3). */
  sweepEveryBeats?: number;
}

const DEFAULT_SWEEP_EVERY_BEATS = 3;

/** The reason a job of a lost runner ends with (one reason for every lost runner of a sweep). */
/** Where the store writes the lost runner's id into the reason (one UPDATE for every lost job). */
export const RUNNER_PLACEHOLDER = '{runner}';

export function lostRunnerReason(lostAfterMs: number, runnerId: string = RUNNER_PLACEHOLDER): string {
  return `Its runner ${runnerId} was lost (no heartbeat for ${lostAfterMs / 1000} s); its processes were stopped with it`;
}

/** The reason a job ends with when the store shows it running on a live runner that no longer runs it. */
export function abandonedJobReason(runnerId: string): string {
  return `Its runner ${runnerId} is alive but no longer runs it: its outcome was never recorded`;
}

/**
 * Keeps this runner's heartbeat in the store, so that no job stays running after a runner dies:
 * - at start, records a first heartbeat (before any job is claimed), lets the deployment's
 *   RunnerStartupRecovery (if any) settle its predecessor's jobs, and ends the jobs of runners
 *   silent for longer than runnerLostAfterSeconds as error, a crashed predecessor's included;
 * - every heartbeatSeconds, records a heartbeat and stops the jobs running here whose cancel was
 *   requested in the store (the fallback when the bus's cancel request was lost);
 * - every few heartbeats, ends the jobs of lost runners again, and those the store shows running
 *   on this runner although it no longer runs them (so none stays running with its runner alive);
 * - on a clean shutdown, once the runner has recorded its jobs, removes itself.
 */
@Injectable()
export class RunnerHeartbeatService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RunnerHeartbeatService.name);
  private heartbeatMs: number;
  private lostAfterMs: number;
  private sweepEveryBeats = DEFAULT_SWEEP_EVERY_BEATS;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private beats = 0;
  private stopped = false;

  constructor(
    private readonly store: RunnerJobStore,
    private readonly config: FlansibleConfig,
    private readonly runner: JobRunnerService,
    private readonly bus: JobNoticeBus,
    @Optional() private readonly startupRecovery?: RunnerStartupRecovery,
  ) {
    this.heartbeatMs = config.heartbeatSeconds * 1000;
    this.lostAfterMs = config.runnerLostAfterSeconds * 1000;
  }

  /** For specs: shorter timings than the configuration's. Call before the app starts. */
  configure(options: RunnerHeartbeatOptions): void {
    this.heartbeatMs = options.heartbeatMs ?? this.heartbeatMs;
    this.lostAfterMs = options.lostAfterMs ?? this.lostAfterMs;
    this.sweepEveryBeats = options.sweepEveryBeats ?? this.sweepEveryBeats;
  }

  get runnerId(): string {
    return this.runner.runnerId;
  }

  /** Runs before any onApplicationBootstrap: the heartbeat exists before the runner claims a job. */
  async onModuleInit(): Promise<void> {
    const beating = await this.recordHeartbeat();
    // The deployment's own reason for its predecessor's jobs comes before the sweep's generic one.
    await this.startupRecovery?.recover();
    if (beating) await this.failJobsOfLostRunners();
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
      await this.failJobsOfLostRunners();
      await this.endAbandonedJobs();
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
      for (const jobId of await this.store.findCancelRequests(this.runnerId)) {
        if (this.runner.cancel(jobId)) this.logger.log(`Job ${jobId} canceled (request found in the store)`);
      }
    } catch (err) {
      this.logger.error(`Could not look for cancel requests: ${(err as Error).message}`);
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
      try {
        this.bus.notify({ jobId, what: 'status' });
      } catch {
        // a hint only
      }
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
      try {
        this.bus.notify({ jobId, what: 'status' });
      } catch {
        // a hint only
      }
    }
    return failed;
  }
}
