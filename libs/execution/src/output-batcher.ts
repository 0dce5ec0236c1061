import { Logger } from '@nestjs/common';
import { SerialBatcher } from './serial-batcher';

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
 * Collects a job's output and appends it to the store in batches (see SerialBatcher).
 *
 * An append that fails loses that batch only: the run goes on, and the next batch that can be
 * stored starts with a line saying how much is missing.
 */
export class OutputBatcher extends SerialBatcher<string> {
  private readonly logger = new Logger(OutputBatcher.name);
  private pending = '';
  private lostChars = 0;
  private lastError = '';

  constructor(
    private readonly append: (chunk: string) => Promise<void>,
    options: OutputBatcherOptions = {},
  ) {
    const maxBatch = options.maxBatchChars ?? DEFAULT_MAX_BATCH_CHARS;
    super({
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
      maxBatch,
      highWaterMark: options.highWaterMarkChars ?? 4 * maxBatch,
    });
  }

  /**
   * Queues text. Returns a promise when so much is pending that the producer should pause
   * reading until it resolves (the store is slower than the output), otherwise nothing.
   */
  write(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    this.pending += text;
    return this.scheduled();
  }

  protected pendingSize(): number {
    return this.pending.length;
  }

  protected takeBatch(): string {
    const text = this.pending;
    this.pending = '';
    return text;
  }

  protected async store(text: string): Promise<void> {
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
}
