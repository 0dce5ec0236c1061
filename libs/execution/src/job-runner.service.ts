import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { JobStartAuthorizer } from '@flansible/auth';
import { withLogFields } from '@flansible/logging';
import { FlansibleMetrics } from '@flansible/metrics';
import { JobMessage, JobNotice, JobStatus, LaunchPath } from '@flansible/contracts';
import { DeliveryInfo, JobCancelBus, JobNoticeBus } from '@flansible/queue';
import { JobRecord, RunnerJobStore } from '@flansible/store';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { HeldJob, HeldJobs } from './held-jobs';
import { ExecuteJobOptions, JobExecutor, JobInterruption } from './job-executor';
import { OutcomeRecorder } from './outcome-recorder';
import { RunnerDrainService } from './runner-drain.service';

/** Whether a message's spec is the stored one (both came from the same JSON, so key order agrees). */
function sameSpec(stored: unknown, carried: unknown): boolean {
  return JSON.stringify(stored) === JSON.stringify(carried);
}

/** Identity a runner records on the jobs it claims: which machine, which process, which start. */
export function createRunnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Test seams; production uses the defaults. */
export type JobRunnerOptions = Pick<
  ExecuteJobOptions,
  'timeoutSeconds' | 'idleTimeoutSeconds' | 'killGraceMs' | 'batching' | 'eventBatching'
>;

/** Optional provider for specs: shorter timeouts and grace periods than the configuration's. */
export const JOB_RUNNER_OPTIONS = Symbol('JOB_RUNNER_OPTIONS');

const SHUTDOWN_REASON = 'The runner shut down while the job was running';

/**
 * The runner: handles job messages (JobMessageController), claims each job in the store (so a redelivered message
 * never runs Ansible twice), executes it and records the outcome before the message is acked.
 * Tells the notice bus after each stored batch of output or events and each status change, and
 * stops a job here when the bus carries a cancel request for it.
 */
@Injectable()
export class JobRunnerService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  readonly runnerId = createRunnerId();
  private readonly logger = new Logger(JobRunnerService.name);
  /** Jobs this process holds, from their claim until the store has their outcome. */
  private readonly held = new HeldJobs();
  private readonly recorder: OutcomeRecorder;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private readonly options: JobRunnerOptions;

  constructor(
    private readonly store: RunnerJobStore,
    private readonly executor: JobExecutor,
    private readonly bus: JobNoticeBus,
    private readonly cancels: JobCancelBus,
    private readonly startAuthorizer: JobStartAuthorizer,
    private readonly metrics: FlansibleMetrics,
    private readonly drainer: RunnerDrainService,
    @Optional() @Inject(JOB_RUNNER_OPTIONS) options?: JobRunnerOptions,
  ) {
    this.options = { ...options };
    this.recorder = new OutcomeRecorder(store, metrics, (notice) => this.notify(notice), this.logger);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.executor.checkCallbackPlugin();
    this.executor.checkSupervision();
    try {
      // A bus message only says "look now": the job is stopped when the store records the request.
      await this.cancels.onCancel(({ jobId }) => void this.cancelIfRequested(jobId));
    } catch (err) {
      // The heartbeat's look at the store's cancel requests still stops canceled jobs, only later.
      this.logger.error(`Could not subscribe to cancel requests: ${(err as Error).message}`);
    }
  }

  /** The jobs this process holds now: executing, or finished with their outcome not yet stored. */
  get runningJobCount(): number {
    return this.held.count;
  }

  /** True while the job executes in this process. */
  isRunning(jobId: string): boolean {
    return this.held.isRunning(jobId);
  }

  /** See HeldJobs.claimMark: null while the store's list of jobs running here cannot be judged. */
  claimMark(): number | null {
    return this.held.claimMark();
  }

  /** See HeldJobs.jobsNoLongerHeld: the store's jobs on this runner that this process no longer holds. */
  jobsNoLongerHeld(ids: string[], mark: number): string[] {
    return this.held.jobsNoLongerHeld(ids, mark);
  }

  /**
   * Stops a job running here (its whole process tree) with the given outcome: canceled, or error
   * when the store has already ended it (a runner counted as lost) and its tree must not go on.
   * False when the job is not running here (a finished one waiting for its outcome to be stored included).
   */
  interrupt(jobId: string, status: JobInterruption['status'], reason: string): boolean {
    return this.held.interrupt(jobId, new JobInterruption(status, reason));
  }

  /** Stops a job running here when the store holds a cancel request for it, with the stored reason. */
  async cancelIfRequested(jobId: string): Promise<boolean> {
    if (!this.isRunning(jobId)) return false;
    let job;
    try {
      job = await this.store.findJob(jobId);
    } catch (err) {
      // The heartbeat's look at the store's cancel requests stops it later.
      this.logger.warn(`Could not check the cancel request for job ${jobId}: ${(err as Error).message}`);
      return false;
    }
    if (!job?.cancelRequestedAt) {
      this.logger.warn(`Ignored a cancel message for job ${jobId}: the store holds no cancel request for it`);
      return false;
    }
    const reason = job.cancelReason ?? 'Job canceled';
    const canceled = this.cancel(jobId, reason);
    if (canceled) this.logger.log(`Job ${jobId} canceled: ${reason}`);
    return canceled;
  }

  /**
   * Stops a job running in this process (its whole process tree); it ends as canceled with the
   * given reason. False when the job is not running here.
   */
  cancel(jobId: string, reason = 'Job canceled'): boolean {
    return this.interrupt(jobId, JobStatus.Canceled, reason);
  }

  /**
   * The queue's handler. Resolving acks the message; throwing returns it to the queue (it comes
   * back after a delay). Only the store failing to claim makes it throw; a finished job's outcome
   * is retried here until the store takes it, the message held unacked meanwhile.
   */
  async handle(message: JobMessage, delivery: DeliveryInfo): Promise<void> {
    const { jobId } = message;
    if (this.stopping) {
      // Neither ack nor return it: a message returned now would come straight back to this
      // consumer and count towards the delivery limit. It goes back to the queue when the
      // connection closes at shutdown (or with the process, for the in-process queue).
      this.logger.log(`Job ${jobId} arrived during shutdown: left for another runner`);
      return new Promise<void>(() => undefined);
    }
    // The message is a wake-up and a pointer, never the job itself: what runs is the fairest job
    // the store holds as queued (this one when fairness allows), exactly as the gateway stored it.
    const job = await this.held.claim(() => this.store.claimNextJob(this.runnerId, new Date(), jobId));
    if (!job) {
      // Nothing queued any more (a redelivery after a runner was lost, a duplicate, or the job ran
      // through another message): ack, never run anything twice.
      this.logger.warn(`No queued job left for the message of job ${jobId}${delivery.redelivered ? ' (redelivered)' : ''}: acknowledged without running`);
      return;
    }
    // Every line logged for this job, here and below, names the job, its request and this runner.
    const claimed = job;
    return withLogFields({ jobId: job.id, requestId: job.requestId ?? undefined, runner: this.runnerId }, () => this.start(claimed, message));
  }

  /** A claimed job: checked once more, run, and its outcome recorded. */
  private async start(job: JobRecord, message: JobMessage): Promise<void> {
    const { jobId } = message;
    // Held in the same turn as the claim's answer, so the sweep never sees it claimed here but unheld.
    const held = this.held.hold(job.id);
    try {
      if (job.id === jobId && !sameSpec(job.spec, message.spec)) {
        this.logger.warn(`The message of job ${jobId} does not match the job the gateway stored: running the stored job, not the message`);
      }
      this.notify({ jobId: job.id, what: 'status' });
      this.metrics.jobStarted(job);
      if (this.stopping) {
        // Shutdown began while the job was being claimed: end it now rather than start it.
        await this.recorder.record(job.id, held, { status: JobStatus.Error, reason: SHUTDOWN_REASON, returnCode: null });
        return;
      }
      // Rights may have been taken away while the job waited: rbac.json as it is now decides.
      const refusal = this.startAuthorizer.refusal(job);
      if (refusal) {
        this.logger.warn(`Job ${job.id} of ${job.submittedBy} not started: ${refusal}`);
        await this.recorder.record(job.id, held, { status: JobStatus.Error, reason: refusal, returnCode: null });
        return;
      }
      await this.runAndRecord(job, held);
    } finally {
      held.finished();
    }
  }

  private async runAndRecord(job: JobRecord, held: HeldJob): Promise<void> {
    const { id: jobId, spec } = job;
    const started = Date.now();
    this.logger.log(`Job ${jobId} (${spec?.kind}) started for ${job.submittedBy}`);
    let launchPath: LaunchPath | undefined;
    const outcome = await this.executor.execute(spec, {
      ...this.options,
      onLaunched: (path) => (launchPath = path),
      appendOutput: async (chunk) => {
        await this.store.appendOutput(jobId, chunk);
        this.metrics.outputStored(chunk);
        this.notify({ jobId, what: 'output' });
      },
      appendEvents: async (events) => {
        await this.store.appendEvents(jobId, events);
        this.notify({ jobId, what: 'events' });
      },
      signal: held.abort.signal,
    });
    const took = ((Date.now() - started) / 1000).toFixed(1);
    this.logger.log(`Job ${jobId} ${outcome.status} after ${took} s${outcome.reason ? `: ${outcome.reason}` : ''}`);
    await this.recorder.record(jobId, held, launchPath ? { ...outcome, launchPath } : outcome);
  }

  /**
   * Shutdown: take no new job, let running jobs finish within the grace period (RunnerDrainService),
   * then stop every process tree left and record those jobs as error (so none stays "running")
   * while the store is still open: this runs on onModuleDestroy, before the store and the queue close.
   */
  async onModuleDestroy(): Promise<void> {
    await this.shutdown();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /** Stops taking jobs, drains, and stops those still running here; resolves once they are recorded. Idempotent. */
  shutdown(): Promise<void> {
    return (this.stopped ??= this.stop());
  }

  /** Notices are hints: a failing bus never fails the job. */
  private notify(notice: JobNotice): void {
    try {
      this.bus.notify(notice);
    } catch (err) {
      this.logger.warn(`Could not send a ${notice.what} notice for job ${notice.jobId}: ${(err as Error).message}`);
    }
  }

  private async stop(): Promise<void> {
    const reason = (await this.drainer.drain()) ?? SHUTDOWN_REASON;
    this.stopping = true;
    this.recorder.stop();
    const jobs = this.held.close();
    if (!jobs.length) return;
    const running = jobs.filter((job) => job.outcome === undefined);
    this.logger.warn(`Shutting down: stopping ${running.length} running job(s), recording ${jobs.length - running.length} finished one(s)`);
    for (const job of running) {
      job.abort.abort(new JobInterruption(JobStatus.Error, reason));
    }
    await Promise.all(jobs.map((job) => job.done));
  }
}
