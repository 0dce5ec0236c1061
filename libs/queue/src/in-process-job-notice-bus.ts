import { Logger } from '@nestjs/common';
import { JobNotice } from '@flansible/contracts';
import { CancelRequest, JobNoticeBus } from './job-notice-bus';
import { QueueUnavailableError } from './job-queue';

interface ListenerEntry {
  listener: (notice: JobNotice) => void;
}

/**
 * The notice bus of the embedded deployment: gateway and runner in one process. Deliveries never
 * happen inside notify()/requestCancel() (notices on a microtask, cancel requests on a later turn of
 * the event loop), as over a broker: the caller finishes its own step first, and a listener that
 * throws cannot hurt it.
 */
export class InProcessJobNoticeBus extends JobNoticeBus {
  private readonly logger = new Logger(InProcessJobNoticeBus.name);
  private readonly listeners = new Map<string, Set<ListenerEntry>>();
  private readonly cancelHandlers = new Set<(request: CancelRequest) => void>();
  private closed = false;

  notify(notice: JobNotice): void {
    if (this.closed || !this.listeners.has(notice.jobId)) return;
    const { jobId, what } = notice;
    queueMicrotask(() => {
      const entries = this.listeners.get(jobId);
      if (!entries) return;
      for (const entry of [...entries]) {
        // Left after notify() (or during an earlier listener of this notice): not told.
        if (!entries.has(entry)) continue;
        try {
          entry.listener({ jobId, what });
        } catch (err) {
          this.logger.error(`A listener for job ${jobId} threw: ${errorMessage(err)}`);
        }
      }
    });
  }

  listen(jobId: string, listener: (notice: JobNotice) => void): () => void {
    if (this.closed) {
      this.logger.warn(`Not listening for notices of job ${jobId}: the notice bus is closed`);
      return () => undefined;
    }
    // An entry object per call: the same function listening twice is two listeners.
    const entry: ListenerEntry = { listener };
    let entries = this.listeners.get(jobId);
    if (!entries) {
      entries = new Set();
      this.listeners.set(jobId, entries);
    }
    entries.add(entry);
    const owned = entries;
    return () => {
      owned.delete(entry);
      if (owned.size === 0 && this.listeners.get(jobId) === owned) this.listeners.delete(jobId);
    };
  }

  async requestCancel(request: CancelRequest): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the notice bus is closed');
    const { jobId, reason } = request;
    const handlers = [...this.cancelHandlers];
    // A later turn of the event loop, so the requester's own continuation runs first, as with a broker.
    setImmediate(() => {
      if (this.closed) return;
      for (const handler of handlers) {
        try {
          handler({ jobId, reason });
        } catch (err) {
          this.logger.error(`A cancel handler threw for job ${jobId}: ${errorMessage(err)}`);
        }
      }
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
    return this.listeners.size;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
