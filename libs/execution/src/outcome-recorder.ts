import { Logger } from '@nestjs/common';
import { FlansibleMetrics } from '@flansible/metrics';
import { JobNotice, JobOutcome } from '@flansible/contracts';
import { RunnerJobStore } from '@flansible/store';
import { HeldJob } from './held-jobs';

/**
 * Recording an outcome the store refuses is retried after this pause, doubling up to
 * RECORD_RETRY_MAX_MS, for as long as it takes: the message stays unacked meanwhile, so it is
 * redelivered only if this runner dies, and then the lost-runner sweep ends the job.
 */
const RECORD_RETRY_FIRST_MS = 500;
const RECORD_RETRY_MAX_MS = 5_000;
/** Attempts left once shutdown begins; after them the job is left to the lost-runner sweep. */
const RECORD_ATTEMPTS_AT_SHUTDOWN = 3;

/** Stores the outcomes of the runner's jobs, retrying until the store takes them. */
export class OutcomeRecorder {
  /** Wakes outcomes waiting to be recorded again when shutdown begins. */
  private readonly wakeOnStop = new Set<() => void>();
  private stopping = false;

  constructor(
    private readonly store: RunnerJobStore,
    private readonly metrics: FlansibleMetrics,
    private readonly notify: (notice: JobNotice) => void,
    /** The runner's, so these lines name it as they always did. */
    private readonly logger: Logger,
  ) {}

  /**
   * Records the outcome, retrying with a growing pause (RECORD_RETRY_*) until the store takes it:
   * the job stays held here and its message unacked, so no other runner gets it meanwhile. At
   * shutdown a few last attempts, then it throws (the job is left to the lost-runner sweep).
   */
  async record(jobId: string, held: HeldJob, outcome: JobOutcome): Promise<void> {
    held.outcome = outcome;
    let pause = RECORD_RETRY_FIRST_MS;
    let attemptsAtShutdown = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const recorded = await this.store.completeJob(jobId, outcome, new Date());
        this.metrics.jobFinished(jobId, outcome.status, recorded);
        if (recorded) this.notify({ jobId, what: 'status' });
        else this.logger.warn(`Job ${jobId} was already finished: its ${outcome.status} outcome was not recorded`);
        if (attempt > 1) this.logger.log(`Recorded the ${outcome.status} outcome of job ${jobId} on attempt ${attempt}`);
        return;
      } catch (err) {
        if (this.stopping && ++attemptsAtShutdown >= RECORD_ATTEMPTS_AT_SHUTDOWN) {
          this.logger.error(
            `Could not record the ${outcome.status} outcome of job ${jobId} before shutdown: ${(err as Error).message}; ` +
              'the job ends as error once this runner counts as lost',
          );
          throw err;
        }
        const wait = this.stopping ? RECORD_RETRY_FIRST_MS : pause;
        this.logger.warn(
          `Could not record the ${outcome.status} outcome of job ${jobId} (attempt ${attempt}): ${(err as Error).message}; ` +
            `trying again in ${(wait / 1000).toFixed(1)} s`,
        );
        await this.pause(wait);
        pause = Math.min(2 * pause, RECORD_RETRY_MAX_MS);
      }
    }
  }

  /** Shutdown: the outcomes waiting to be recorded again get their last few attempts at once. */
  stop(): void {
    this.stopping = true;
    for (const wake of [...this.wakeOnStop]) wake();
  }

  /** A pause that shutdown cuts short, so the last attempts come at once. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeOnStop.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      if (this.stopping) return;
      this.wakeOnStop.add(wake);
    });
  }
}
