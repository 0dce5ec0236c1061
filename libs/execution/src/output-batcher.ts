import { Logger } from '@nestjs/common';

export interface OutputBatcherOptions {
  /** Longest a piece of output waits before it is appended. */
  flushIntervalMs?: number;
  /** A batch this large is appended at once, without waiting for the interval. */
  maxBatchChars?: number;
  /** Past this much pending output, write() asks the producer to pause until it drains. */
  highWaterMarkChars?: number;
}

/** Short: the live stream aims at 100 ms from a line read here to an SSE client (p95). */
export const DEFAULT_FLUSH_INTERVAL_MS = 25;
export const DEFAULT_MAX_BATCH_CHARS = 64 * 1024;

/**
 * Collects a job's output and appends it to the store in batches: at most one append per
 * interval (or per full batch), one at a time and in order, so the store sees few writes and
 * never two concurrent appends for one job.
 *
 * An append that fails loses that batch only: the run goes on, and the next batch that can be
 * stored starts with a line saying how much is missing.
 */
export class OutputBatcher {
  private readonly logger = new Logger(OutputBatcher.name);
  private readonly flushIntervalMs: number;
  private readonly maxBatchChars: number;
  private readonly highWaterMarkChars: number;
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** The append in progress, if any; the next starts only when it has settled. */
  private inFlight: Promise<void> | null = null;
  private lostChars = 0;
  private lastError = '';
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly append: (chunk: string) => Promise<void>,
    options: OutputBatcherOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxBatchChars = options.maxBatchChars ?? DEFAULT_MAX_BATCH_CHARS;
    this.highWaterMarkChars = options.highWaterMarkChars ?? 4 * this.maxBatchChars;
  }

  /**
   * Queues text. Returns a promise when so much is pending that the producer should pause
   * reading until it resolves (the store is slower than the output), otherwise nothing.
   */
  write(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    this.pending += text;
    if (this.pending.length >= this.maxBatchChars) this.startAppend();
    else this.timer ??= setTimeout(() => this.startAppend(), this.flushIntervalMs);
    if (this.pending.length < this.highWaterMarkChars) return undefined;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Appends everything pending and resolves once the store has taken (or refused) all of it. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight) await this.inFlight;
      else if (this.pending) this.startAppend();
      else break;
    }
    this.releaseDrainWaiters();
  }

  private startAppend(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // When an append is running, this one starts as soon as it settles (see below).
    if (this.inFlight || !this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.inFlight = this.appendOnce(text).finally(() => {
      this.inFlight = null;
      if (this.pending.length < this.highWaterMarkChars) this.releaseDrainWaiters();
      if (this.pending.length >= this.maxBatchChars) this.startAppend();
      else if (this.pending) this.timer ??= setTimeout(() => this.startAppend(), this.flushIntervalMs);
    });
  }

  private async appendOnce(text: string): Promise<void> {
    const notice =
      this.lostChars > 0
        ? `\n[flansible: ${this.lostChars} characters of output could not be stored: ${this.lastError}]\n`
        : '';
    try {
      await this.append(notice + text);
      this.lostChars = 0;
    } catch (err) {
      this.lostChars += text.length;
      this.lastError = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      this.logger.error(`Could not store ${text.length} characters of job output: ${this.lastError}`);
    }
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
