import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobQueueServer } from '@flansible/queue';

/** The reason of jobs still running when a drain ends: its grace period is over, or a second signal came. */
export const DRAIN_END_REASON = 'runner shut down';

export interface RunnerDrainOptions {
  graceMs: number;
}

/** Optional provider for specs: a grace period other than the configuration's. */
export const RUNNER_DRAIN_OPTIONS = Symbol('RUNNER_DRAIN_OPTIONS');

/** A second one of these during a drain stops the running jobs at once. */
const STOP_NOW_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Drain, not kill. When the runner stops (JobRunnerService's shutdown, on SIGTERM), it takes no new
 * job at once (messages not yet handed to the handler go back to the queue, for other runners),
 * lets the jobs being handled finish and be recorded for up to shutdownGraceSeconds, and only then
 * does JobRunnerService stop what is left. A second SIGTERM or SIGINT ends the wait at once.
 * The runner is not ready from the moment the drain starts.
 */
@Injectable()
export class RunnerDrainService implements OnApplicationShutdown {
  private readonly logger = new Logger(RunnerDrainService.name);
  private readonly graceMs: number;
  private server: JobQueueServer | null = null;
  private started = false;
  private stopNow: () => void = () => undefined;
  private readonly stoppedNow = new Promise<void>((resolve) => (this.stopNow = resolve));
  private signalListener: (() => void) | null = null;

  constructor(config: FlansibleConfig, @Optional() @Inject(RUNNER_DRAIN_OPTIONS) options?: Partial<RunnerDrainOptions>) {
    this.graceMs = options?.graceMs ?? config.shutdownGraceSeconds * 1000;
  }

  /** What feeds the job handler (startJobConsumer connects it): a drain stops it and waits for its messages. */
  attach(server: JobQueueServer): void {
    this.server = server;
  }

  /** True from the moment the drain starts. */
  get draining(): boolean {
    return this.started;
  }

  /**
   * Stops taking jobs, then waits until no message is being handled, the grace period is over or
   * stopAtOnce() is called. Resolves with the reason to stop the jobs still running with, or null
   * when the grace period is 0 (JobRunnerService stops them at once, as it always did).
   */
  async drain(): Promise<string | null> {
    this.started = true;
    await this.server?.stopConsuming();
    const handling = this.server?.handling ?? 0;
    if (this.graceMs === 0) return null;
    if (handling === 0) return DRAIN_END_REASON;
    this.logger.log(
      `Draining: no new job; ${handling} job(s) may finish within ${this.graceMs / 1000} s (a second SIGTERM or SIGINT stops them at once)`,
    );
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the grace period is over'), this.graceMs)));
    const ended = await Promise.race([
      this.server!.idle().then(() => null),
      graceOver,
      this.stoppedNow.then(() => 'asked to stop at once'),
    ]);
    clearTimeout(timer);
    if (ended === null) this.logger.log('Drained: every job finished');
    else this.logger.warn(`Drain ended, ${ended}: stopping ${this.server!.handling} job(s) still running`);
    return DRAIN_END_REASON;
  }

  /** Ends a drain's wait now (or the next one's at once): the jobs still running stop. */
  stopAtOnce(): void {
    this.stopNow();
  }

  /**
   * The apps call it after enableShutdownHooks(): Nest handles the first SIGTERM or SIGINT (and
   * ignores later ones), so the second is counted here and stops the running jobs at once.
   */
  stopAtOnceOnSecondSignal(): void {
    if (this.signalListener) return;
    let received = 0;
    this.signalListener = () => {
      if (++received < 2) return;
      this.logger.warn('Second stop signal: stopping the running jobs at once');
      this.stopAtOnce();
    };
    for (const signal of STOP_NOW_SIGNALS) process.on(signal, this.signalListener);
  }

  /** Nest re-sends the signal to the process once shut down: only its default action may be left. */
  onApplicationShutdown(): void {
    if (!this.signalListener) return;
    for (const signal of STOP_NOW_SIGNALS) process.removeListener(signal, this.signalListener);
    this.signalListener = null;
  }
}
