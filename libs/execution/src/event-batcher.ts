import { Logger } from '@nestjs/common';
import { NewJobEvent } from '@flansible/contracts';
import { DEFAULT_FLUSH_INTERVAL_MS } from './output-batcher';

export interface EventBatcherOptions {
  /** Longest an event waits before it is appended. */
  flushIntervalMs?: number;
  /** A batch this large is appended at once, without waiting for the interval. */
  maxBatchEvents?: number;
  /** Past this many pending events, add() asks the producer to pause until they drain. */
  highWaterMarkEvents?: number;
}

export const DEFAULT_MAX_BATCH_EVENTS = 500;

/**
 * Collects a job's events and appends them to the store in batches, one append at a time and in
 * order (the store numbers them in the order it receives them). The events' counterpart of
 * OutputBatcher: an append that fails loses that batch only, logged, and the run goes on.
 */
export class EventBatcher {
  private readonly logger = new Logger(EventBatcher.name);
  private readonly flushIntervalMs: number;
  private readonly maxBatchEvents: number;
  private readonly highWaterMarkEvents: number;
  private pending: NewJobEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly append: (events: NewJobEvent[]) => Promise<void>,
    options: EventBatcherOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxBatchEvents = options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
    this.highWaterMarkEvents = options.highWaterMarkEvents ?? 4 * this.maxBatchEvents;
  }

  /** Queues an event; returns a promise when the producer should pause until it resolves. */
  add(event: NewJobEvent): Promise<void> | undefined {
    this.pending.push(event);
    if (this.pending.length >= this.maxBatchEvents) this.startAppend();
    else this.timer ??= setTimeout(() => this.startAppend(), this.flushIntervalMs);
    if (this.pending.length < this.highWaterMarkEvents) return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Appends everything pending and resolves once the store has taken (or refused) all of it. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight) await this.inFlight;
      else if (this.pending.length) this.startAppend();
      else break;
    }
    this.releaseDrainWaiters();
  }

  private startAppend(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight || !this.pending.length) return;
    const batch = this.pending.splice(0, this.maxBatchEvents);
    this.inFlight = this.appendOnce(batch).finally(() => {
      this.inFlight = null;
      if (this.pending.length < this.highWaterMarkEvents) this.releaseDrainWaiters();
      if (this.pending.length >= this.maxBatchEvents) this.startAppend();
      else if (this.pending.length) this.timer ??= setTimeout(() => this.startAppend(), this.flushIntervalMs);
    });
  }

  private async appendOnce(batch: NewJobEvent[]): Promise<void> {
    try {
      await this.append(batch);
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      this.logger.error(`Could not store ${batch.length} job event(s): ${why}`);
    }
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
