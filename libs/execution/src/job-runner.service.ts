import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import { JobStartAuthorizer } from '@flansible/auth';
import { JobMessage, JobNotice, JobOutcome, JobStatus } from '@flansible/contracts';
import { DeliveryInfo, JobNoticeBus } from '@flansible/queue';
import { JobRecord, JobStore } from '@flansible/store';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ExecuteJobOptions, JobExecutor, JobInterruption } from './job-executor';
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

/** Completing a job is retried this many times (with a growing pause) before the message is returned. */
const COMPLETE_ATTEMPTS = 3;

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
  /** Jobs executing in this process, to cancel them or stop them at shutdown. */
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /**
   * Outcomes the store refused to record: the message went back to the queue, and when it comes
   * back here the outcome is recorded then instead of leaving the job running.
   */
  private readonly unrecorded = new Map<string, { jobId: string; outcome: JobOutcome }>();
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private options: JobRunnerOptions = {};

  constructor(
    private readonly store: JobStore,
    private readonly executor: JobExecutor,
    private readonly bus: JobNoticeBus,
    private readonly startAuthorizer: JobStartAuthorizer,
    private readonly drainer: RunnerDrainService,
  ) {}

  /** For specs: shorter timeouts and grace periods than the configuration's. */
  configure(options: JobRunnerOptions): void {
    this.options = { ...options };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.executor.checkCallbackPlugin();
    this.executor.checkSupervision();
    try {
      // A bus message only says "look now": the job is stopped when the store records the request.
      await this.bus.onCancel(({ jobId }) => void this.cancelIfRequested(jobId));
    } catch (err) {
      // The heartbeat's look at the store's cancel requests still stops canceled jobs, only later.
      this.logger.error(`Could not subscribe to cancel requests: ${(err as Error).message}`);
    }
  }

  /** The number of jobs executing in this process now. */
  get runningJobCount(): number {
    return this.running.size;
  }

  /** True while the job executes in this process. */
  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /**
   * Stops a job running here (its whole process tree) with the given outcome: canceled, or error
   * when the store has already ended it (a runner counted as lost) and its tree must not go on.
   * False when the job is not running here.
   */
  interrupt(jobId: string, status: JobInterruption['status'], reason: string): boolean {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.abort.abort(new JobInterruption(status, reason));
    return true;
  }

  /** Stops a job running here when the store holds a cancel request for it, with the stored reason. */
  async cancelIfRequested(jobId: string): Promise<boolean> {
    if (!this.running.has(jobId)) return false;
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
   * A job message's handling. Resolving acks the message; throwing returns it to the queue. Only
   * the store failing makes it throw: then the message comes back later.
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
    const pending = this.unrecorded.get(jobId);
    if (pending) {
      await this.record(pending.jobId, pending.outcome, jobId);
      return;
    }
    // The message is a wake-up and a pointer, never the job itself: what runs is the fairest job
    // the store holds as queued (this one when fairness allows), exactly as the gateway stored it.
    const job = await this.store.claimNextJob(this.runnerId, new Date(), jobId);
    if (!job) {
      // Nothing queued any more (a redelivery after a runner was lost, a duplicate, or the job ran
      // through another message): ack, never run anything twice.
      this.logger.warn(`No queued job left for the message of job ${jobId}${delivery.redelivered ? ' (redelivered)' : ''}: acknowledged without running`);
      return;
    }
    if (job.id === jobId && !sameSpec(job.spec, message.spec)) {
      this.logger.warn(`The message of job ${jobId} does not match the job the gateway stored: running the stored job, not the message`);
    }
    this.notify({ jobId: job.id, what: 'status' });
    if (this.stopping) {
      // Shutdown began while the job was being claimed: end it now rather than start it.
      await this.record(job.id, { status: JobStatus.Error, reason: SHUTDOWN_REASON, returnCode: null }, jobId);
      return;
    }
    // Rights may have been taken away while the job waited: rbac.json as it is now decides.
    const refusal = this.startAuthorizer.refusal(job);
    if (refusal) {
      this.logger.warn(`Job ${job.id} of ${job.submittedBy} not started: ${refusal}`);
      await this.record(job.id, { status: JobStatus.Error, reason: refusal, returnCode: null }, jobId);
      return;
    }
    await this.runAndRecord(job, jobId);
  }

  private async runAndRecord(job: JobRecord, messageJobId: string): Promise<void> {
    const { id: jobId, spec } = job;
    const abort = new AbortController();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    this.running.set(jobId, { abort, done });
    const started = Date.now();
    this.logger.log(`Job ${jobId} (${spec?.kind}) started for ${job.submittedBy}`);
    try {
      const outcome = await this.executor.execute(spec, {
        ...this.options,
        appendOutput: async (chunk) => {
          await this.store.appendOutput(jobId, chunk);
          this.notify({ jobId, what: 'output' });
        },
        appendEvents: async (events) => {
          await this.store.appendEvents(jobId, events);
          this.notify({ jobId, what: 'events' });
        },
        signal: abort.signal,
      });
      const took = ((Date.now() - started) / 1000).toFixed(1);
      this.logger.log(`Job ${jobId} ${outcome.status} after ${took} s${outcome.reason ? `: ${outcome.reason}` : ''}`);
      await this.record(jobId, outcome, messageJobId);
    } finally {
      this.running.delete(jobId);
      finished();
    }
  }

  /** Records `jobId`'s outcome; when the store refuses, the message (of `messageJobId`) goes back and carries it. */
  private async record(jobId: string, outcome: JobOutcome, messageJobId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const recorded = await this.store.completeJob(jobId, outcome, new Date());
        this.unrecorded.delete(messageJobId);
        if (recorded) this.notify({ jobId, what: 'status' });
        else this.logger.warn(`Job ${jobId} was already finished: its ${outcome.status} outcome was not recorded`);
        return;
      } catch (err) {
        if (attempt >= COMPLETE_ATTEMPTS) {
          this.unrecorded.set(messageJobId, { jobId, outcome });
          this.logger.error(`Could not record the outcome of job ${jobId}: ${(err as Error).message}; message returned to the queue`);
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
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
    const jobs = [...this.running.entries()];
    if (!jobs.length) return;
    this.logger.warn(`Shutting down: stopping ${jobs.length} running job(s)`);
    for (const [, job] of jobs) {
      job.abort.abort(new JobInterruption(JobStatus.Error, reason));
    }
    await Promise.all(jobs.map(([, job]) => job.done));
  }
}
