import { Logger } from '@nestjs/common';
import { JobNotice } from '@flansible/contracts';
import { CancelRequest, JobNoticeBus } from './job-notice-bus';
import { QueueUnavailableError } from './job-queue';
import { JobNoticeListeners, tellCancelHandlers } from './job-notice-listeners';

/**
 * The notice bus of the embedded deployment: gateway and runner in one process. Deliveries never
 * happen inside notify()/requestCancel() (notices on a microtask, cancel requests on a later turn of
 * the event loop), as over a broker: the caller finishes its own step first, and a listener that
 * throws cannot hurt it.
 */
export class InProcessJobNoticeBus extends JobNoticeBus {
  private readonly logger = new Logger(InProcessJobNoticeBus.name);
  private readonly listeners = new JobNoticeListeners(this.logger);
  private readonly cancelHandlers = new Set<(request: CancelRequest) => void>();
  private closed = false;

  notify(notice: JobNotice): void {
    if (this.closed || !this.listeners.has(notice.jobId)) return;
    const { jobId, what } = notice;
    // Listeners that leave after notify() are not told: deliver() looks at them when it runs.
    queueMicrotask(() => this.listeners.deliver({ jobId, what }));
  }

  listen(jobId: string, listener: (notice: JobNotice) => void): () => void {
    if (this.closed) {
      this.logger.warn(`Not listening for notices of job ${jobId}: the notice bus is closed`);
      return () => undefined;
    }
    return this.listeners.add(jobId, listener);
  }

  async requestCancel(request: CancelRequest): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the notice bus is closed');
    const { jobId, reason } = request;
    const handlers = [...this.cancelHandlers];
    // A later turn of the event loop, so the requester's own continuation runs first, as with a broker.
    setImmediate(() => {
      if (!this.closed) tellCancelHandlers(handlers, { jobId, reason }, this.logger);
    });
  }

  async onCancel(handler: (request: CancelRequest) => void): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the notice bus is closed');
    this.cancelHandlers.add(handler);
  }

  /** Forgets every listener and handler; notices sent afterwards go nowhere. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.cancelHandlers.clear();
  }

  /** Jobs with at least one listener (the in-process counterpart of the broker bindings). */
  get listenedJobs(): number {
    return this.listeners.jobCount;
  }
}
