import { Logger } from '@nestjs/common';
import { JobNotice } from '@flansible/contracts';
import { JobNoticeBus } from './job-notice-bus';
import { JobNoticeListeners } from './job-notice-listeners';

/**
 * The notice bus of the embedded deployment: gateway and runner in one process. Deliveries never
 * happen inside notify() (notices go out on a microtask), as over a broker: the caller finishes its
 * own step first, and a listener that throws cannot hurt it.
 */
export class InProcessJobNoticeBus extends JobNoticeBus {
  private readonly logger = new Logger(InProcessJobNoticeBus.name);
  private readonly listeners = new JobNoticeListeners(this.logger);
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

  /** Forgets every listener; notices sent afterwards go nowhere. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  /** Jobs with at least one listener (the in-process counterpart of the broker bindings). */
  get listenedJobs(): number {
    return this.listeners.jobCount;
  }
}
