import { Logger } from '@nestjs/common';
import { JobNotice } from '@flansible/contracts';
import { errorMessage } from './amqp-helpers';

type NoticeListener = (notice: JobNotice) => void;

/** An object per listen() call: the same function listening twice is two listeners. */
interface ListenerEntry {
  listener: NoticeListener;
}

export interface JobNoticeListenersEvents {
  /** `jobId` has just got its first listener (the broker bus binds it then). */
  onFirstListener?: (jobId: string) => void;
  /** The last listener of `jobId` has just left (the broker bus unbinds it then). */
  onLastListenerGone?: (jobId: string) => void;
}

/**
 * The listeners of a notice bus, by job id, and the fan-out of one notice to them: every listener
 * gets its own copy, one that throws hurts no other, and one that leaves while a notice is being
 * handed out does not get it. Shared by the in-process and the RabbitMQ bus.
 */
export class JobNoticeListeners {
  private readonly byJob = new Map<string, Set<ListenerEntry>>();

  constructor(
    private readonly logger: Logger,
    private readonly events: JobNoticeListenersEvents = {},
  ) {}

  /** Adds a listener; the returned function removes it and is idempotent. */
  add(jobId: string, listener: NoticeListener): () => void {
    const entry: ListenerEntry = { listener };
    let entries = this.byJob.get(jobId);
    if (!entries) {
      entries = new Set();
      this.byJob.set(jobId, entries);
      this.events.onFirstListener?.(jobId);
    }
    entries.add(entry);

    const owned = entries;
    let listening = true;
    return () => {
      if (!listening) return;
      listening = false;
      owned.delete(entry);
      // `owned` may be a set already dropped by clear(), or replaced since: then it is not ours to remove.
      if (owned.size === 0 && this.byJob.get(jobId) === owned) {
        this.byJob.delete(jobId);
        this.events.onLastListenerGone?.(jobId);
      }
    };
  }

  has(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** The jobs with at least one listener. */
  jobIds(): string[] {
    return [...this.byJob.keys()];
  }

  get jobCount(): number {
    return this.byJob.size;
  }

  /** Hands `notice` to each listener of its job, as they are now. */
  deliver(notice: JobNotice): void {
    const { jobId, what } = notice;
    const entries = this.byJob.get(jobId);
    if (!entries) return; // the last listener left while this notice was on its way
    for (const entry of [...entries]) {
      if (!entries.has(entry)) continue; // left after the notice was sent, or during an earlier listener of it
      try {
        entry.listener({ jobId, what });
      } catch (err) {
        this.logger.error(`A listener for job ${jobId} threw: ${errorMessage(err)}`);
      }
    }
  }

  /** Forgets every listener, without reporting any job as left. */
  clear(): void {
    this.byJob.clear();
  }
}
