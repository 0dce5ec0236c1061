/** Limits shared by every batcher, in the batcher's own unit (characters, events). */
export interface BatchLimits {
  flushIntervalMs: number;
  /** A batch this large is appended at once, without waiting for the interval. */
  maxBatch: number;
  /** Past this much pending, the producer is asked to pause until it drains. */
  highWaterMark: number;
}

/** Short: the live stream aims at 100 ms from a line read here to an SSE client (p95). */
const DEFAULT_FLUSH_INTERVAL_MS = 25;

/** A batcher's limits from its options: the default interval, and four batches' worth before back-pressure. */
export function batchLimits(maxBatch: number, flushIntervalMs?: number, highWaterMark?: number): BatchLimits {
  return { flushIntervalMs: flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS, maxBatch, highWaterMark: highWaterMark ?? 4 * maxBatch };
}

/**
 * The mechanics both the output and the event batchers share: at most one append per interval
 * (or per full batch), one at a time and in order, so the store sees few writes and never two
 * concurrent appends for one job; and back-pressure when the store is slower than the producer.
 * Subclasses say how pending items are measured, taken and stored.
 */
export abstract class SerialBatcher<Batch> {
  private timer: NodeJS.Timeout | null = null;
  /** The append in progress, if any; the next starts only when it has settled. */
  private inFlight: Promise<void> | null = null;
  private drainWaiters: (() => void)[] = [];

  protected constructor(protected readonly limits: BatchLimits) {}

  /** How much is pending, in the unit of the limits. */
  protected abstract pendingSize(): number;
  /** Removes and returns the next batch. */
  protected abstract takeBatch(): Batch;
  /** Stores one batch; must not throw (a failed batch is the subclass's to report). */
  protected abstract store(batch: Batch): Promise<void>;

  /** Appends everything pending and resolves once the store has taken (or refused) all of it. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight) await this.inFlight;
      else if (this.pendingSize() > 0) this.startAppend();
      else break;
    }
    this.releaseDrainWaiters();
  }

  /** Call after adding to what is pending; returns a promise when the producer should pause. */
  protected scheduled(): Promise<void> | undefined {
    if (this.pendingSize() >= this.limits.maxBatch) this.startAppend();
    else this.timer ??= setTimeout(() => this.startAppend(), this.limits.flushIntervalMs);
    if (this.pendingSize() < this.limits.highWaterMark) return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private startAppend(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight || this.pendingSize() === 0) return;
    this.inFlight = this.store(this.takeBatch()).finally(() => {
      this.inFlight = null;
      if (this.pendingSize() < this.limits.highWaterMark) this.releaseDrainWaiters();
      if (this.pendingSize() >= this.limits.maxBatch) this.startAppend();
      else if (this.pendingSize() > 0) this.timer ??= setTimeout(() => this.startAppend(), this.limits.flushIntervalMs);
    });
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
