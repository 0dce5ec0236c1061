import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isTerminalStatus } from '@flansible/contracts';
import { JobNoticeBus } from '@flansible/queue';
import { GatewayJobStore, JobRecord } from '@flansible/store';
import { toJobEvent } from './job-resource';

/** Where a client is in a job's stream: lines and events it has received. Sent as each message's id. */
export interface StreamCursor {
  lines: number;
  events: number;
}

/** One open stream of a job: its client, where it is, and what it was last told. */
export interface FeedSubscriber {
  user: string;
  res: Response;
  cursor: StreamCursor;
  lastStatus: string | null;
  lastWrite: number;
  /** Called once, when the stream has ended for whatever reason. */
  onEnd: () => void;
  ended: boolean;
}

const OUTPUT_PAGE = 1_000;
const EVENT_PAGE = 500;
/** Re-read the store this often even without a notice: notices are hints and may be lost. */
const SAFETY_POLL_MS = 1_000;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/**
 * A stream whose client has not read this much is stalled: it gets nothing more until its socket
 * drains, then resumes from its own cursor. So a stalled reader holds about this plus one message
 * in the gateway, whatever the job's output size.
 */
export const STALLED_STREAM_BYTES = 256 * 1024;

const stalled = (subscriber: FeedSubscriber): boolean => subscriber.res.writableLength >= STALLED_STREAM_BYTES;
/** Neither ended nor stalled: a message can go to it now. */
const writable = (subscriber: FeedSubscriber): boolean => !subscriber.ended && !stalled(subscriber);

/**
 * The open streams of one job on this gateway, and their one reader. A notice from the bus, or
 * the safety poll, makes it read the job row once and the new lines and events once per distinct
 * cursor (streams that are caught up share one), and send them to each stream from its own
 * cursor. So the store's load grows with the number of jobs being watched, not of watchers.
 */
export class JobFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private readonly stopListening: () => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private reading = false;
  /** A notice, a new stream or the poll came while reading: read again right after. */
  private again = false;
  private closed = false;
  /** The last read failed: logged once until one succeeds. */
  private failing = false;

  constructor(
    readonly jobId: string,
    /** Who may read the job is decided by these, which never change. */
    readonly owner: Pick<JobRecord, 'submittedBy' | 'inventory'>,
    private readonly store: GatewayJobStore,
    bus: JobNoticeBus,
    private readonly logger: Logger,
    /** Called once the last stream has left. */
    private readonly onEmpty: () => void,
  ) {
    this.stopListening = bus.listen(jobId, () => this.wake());
  }

  get size(): number {
    return this.subscribers.size;
  }

  get streams(): readonly FeedSubscriber[] {
    return [...this.subscribers];
  }

  /** Adds a stream; it gets everything after its cursor from the next read on. */
  add(subscriber: FeedSubscriber): void {
    this.subscribers.add(subscriber);
    subscriber.res.on('close', () => this.remove(subscriber));
    // A stalled stream resumes once its client has read what was buffered.
    subscriber.res.on('drain', () => this.wake());
    // The client may have gone before the listener was there.
    if (subscriber.res.closed) this.remove(subscriber);
    else this.wake();
  }

  /** Ends one stream with a last message saying why (an SSE `closed` event, which carries no id). */
  close(subscriber: FeedSubscriber, reason: string): void {
    if (subscriber.ended) return;
    subscriber.res.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.end(subscriber);
  }

  private wake(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.read();
  }

  private async read(): Promise<void> {
    this.reading = true;
    try {
      do {
        this.again = false;
        // Streams that join during a read wait for the next one: each must get output and events before `end`.
        const subscribers = [...this.subscribers];
        try {
          await this.readFor(subscribers);
          this.failing = false;
        } catch (err) {
          if (!this.failing) this.logger.warn(`Cannot read job ${this.jobId} for its streams (retrying): ${(err as Error).message}`);
          this.failing = true;
        }
      } while (this.again && !this.closed);
    } finally {
      this.reading = false;
    }
    if (!this.closed) this.timer = setTimeout(() => this.wake(), SAFETY_POLL_MS);
  }

  private async readFor(subscribers: FeedSubscriber[]): Promise<void> {
    if (subscribers.length === 0) return;
    const job = await this.store.findJob(this.jobId);
    if (!job) {
      for (const subscriber of subscribers) this.end(subscriber); // purged meanwhile
      return;
    }
    // The runner stores all output and events before the terminal status, so once the job
    // reads as terminal here, what follows is all there is.
    const terminal = isTerminalStatus(job.status);
    for (const group of groupBy(subscribers.filter(writable), (s) => s.cursor.lines)) {
      if (group[0].cursor.lines < job.outputLines) await this.sendOutput(group, job.outputLines, terminal);
    }
    for (const group of groupBy(subscribers.filter(writable), (s) => s.cursor.events)) {
      if (group[0].cursor.events < job.eventCount) await this.sendEvents(group);
    }
    const now = Date.now();
    for (const subscriber of subscribers) {
      if (!writable(subscriber)) continue;
      // A stream still behind (it stalled) ends only once it has everything.
      const caughtUp = subscriber.cursor.lines >= job.outputLines && subscriber.cursor.events >= job.eventCount;
      if (terminal && !caughtUp) continue;
      if (job.status !== subscriber.lastStatus) {
        subscriber.lastStatus = job.status;
        send(subscriber, 'status', JSON.stringify({ status: job.status, reason: job.reason, return_code: job.returnCode }));
      }
      if (terminal) {
        send(subscriber, 'end', JSON.stringify({ status: job.status }));
        this.end(subscriber);
      } else if (now - subscriber.lastWrite >= KEEPALIVE_MS) {
        subscriber.res.write(': keep-alive\n\n');
        subscriber.lastWrite = now;
      }
    }
  }

  /** Streams at the same line cursor: one read per page, sent to each. */
  private async sendOutput(group: FeedSubscriber[], storedLines: number, terminal: boolean): Promise<void> {
    let from = group[0].cursor.lines;
    while (from < storedLines) {
      const page = await this.store.readOutputLines(this.jobId, from + 1, Math.min(storedLines, from + OUTPUT_PAGE));
      let lines = page.lines;
      // A last line still without its newline may grow: hold it back until it is complete.
      const reachesEnd = page.from + lines.length - 1 >= page.totalLines;
      if (reachesEnd && !page.endsWithNewline && !terminal) lines = lines.slice(0, -1);
      if (lines.length === 0) return;
      from += lines.length;
      const data = JSON.stringify({ start_line: page.from, lines });
      const receivers = group.filter(writable);
      // Every stream of the group stalled: the rest waits for their drain.
      if (receivers.length === 0) return;
      for (const subscriber of receivers) {
        subscriber.cursor.lines = from;
        send(subscriber, 'output', data);
      }
      group = receivers;
    }
  }

  /** Streams at the same event cursor: one read per page, sent to each. */
  private async sendEvents(group: FeedSubscriber[]): Promise<void> {
    let after = group[0].cursor.events;
    for (;;) {
      const events = await this.store.readEvents(this.jobId, { after, limit: EVENT_PAGE });
      for (const event of events) {
        group = group.filter(writable);
        if (group.length === 0) return;
        after = event.counter;
        const data = JSON.stringify(toJobEvent(event));
        for (const subscriber of group) {
          subscriber.cursor.events = after;
          send(subscriber, 'event', data);
        }
      }
      if (events.length < EVENT_PAGE) return;
    }
  }

  private end(subscriber: FeedSubscriber): void {
    if (!subscriber.ended) subscriber.res.end();
    this.remove(subscriber);
  }

  private remove(subscriber: FeedSubscriber): void {
    if (subscriber.ended) return;
    subscriber.ended = true;
    this.subscribers.delete(subscriber);
    subscriber.onEnd();
    if (this.subscribers.size === 0 && !this.closed) {
      this.closed = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.stopListening();
      this.onEmpty();
    }
  }
}

/** One message; `data` is JSON text, serialised once for all the streams it goes to. */
function send(subscriber: FeedSubscriber, event: string, data: string): void {
  const { cursor } = subscriber;
  subscriber.res.write(`id: ${cursor.lines}:${cursor.events}\nevent: ${event}\ndata: ${data}\n\n`);
  subscriber.lastWrite = Date.now();
}

/** Items with the same key together, in the order their keys first appear. */
function groupBy<T>(items: T[], key: (item: T) => number): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}
