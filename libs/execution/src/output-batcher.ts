import { Logger } from '@nestjs/common';
import { StringDecoder } from 'node:string_decoder';
import { batchLimits, SerialBatcher } from './serial-batcher';

export interface OutputBatcherOptions {
  /** Longest a piece of output waits before it is appended. */
  flushIntervalMs?: number;
  /** A batch this large is appended at once, without waiting for the interval. */
  maxBatchChars?: number;
  /** Past this much pending output, write() asks the producer to pause until it drains. */
  highWaterMarkChars?: number;
  /** Most output stored for the job, in UTF-8 bytes (config max_output_mb); unlimited when absent. */
  maxStoredBytes?: number;
}

export const DEFAULT_MAX_BATCH_CHARS = 64 * 1024;

const MiB = 1024 ** 2;

/** A limit in MiB as configured: 64 MiB, 0.5 MiB. */
function formatLimit(bytes: number): string {
  return `${Number((bytes / MiB).toFixed(3))} MiB`;
}

/** A dropped amount, readable at any size: 19.0 MiB, 12.5 KiB, 300 bytes. */
function formatSize(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Collects a job's output and appends it to the store in batches (see SerialBatcher).
 *
 * At most maxStoredBytes are stored: past it the output is still read (so the job runs on to
 * its end) but dropped and counted, and finish() stores one last line saying how much.
 *
 * An append that fails loses that batch only: the run goes on, and the next batch that can be
 * stored starts with a line saying how much is missing.
 */
export class OutputBatcher extends SerialBatcher<string> {
  private readonly logger = new Logger(OutputBatcher.name);
  private pending = '';
  private lostChars = 0;
  private lastError = '';
  private readonly maxStoredBytes: number;
  private storedBytes = 0;
  private keptEndsWithNewline = true;
  private dropped = { bytes: 0, newlines: 0, endsWithNewline: true };

  constructor(
    private readonly append: (chunk: string) => Promise<void>,
    options: OutputBatcherOptions = {},
  ) {
    super(batchLimits(options.maxBatchChars ?? DEFAULT_MAX_BATCH_CHARS, options.flushIntervalMs, options.highWaterMarkChars));
    this.maxStoredBytes = options.maxStoredBytes ?? Infinity;
  }

  /**
   * Queues text. Returns a promise when so much is pending that the producer should pause
   * reading until it resolves (the store is slower than the output), otherwise nothing.
   */
  write(text: string): Promise<void> | undefined {
    const kept = this.withinLimit(text);
    if (kept === '') return undefined;
    this.pending += kept;
    return this.scheduled();
  }

  /** Stores everything pending and then, when output was dropped, the line that says so. */
  async finish(): Promise<void> {
    await this.flush();
    if (this.dropped.bytes === 0) return;
    const { bytes, newlines, endsWithNewline } = this.dropped;
    const lines = newlines + (endsWithNewline ? 0 : 1);
    const notice = `[flansible] output limit of ${formatLimit(this.maxStoredBytes)} reached: ${lines} lines (${formatSize(bytes)}) not stored\n`;
    // Past the limit on purpose: without this line a reader could not tell the output was cut.
    this.pending += (this.keptEndsWithNewline ? '' : '\n') + notice;
    this.dropped = { bytes: 0, newlines: 0, endsWithNewline: true };
    await this.flush();
  }

  /** The part of `text` still under the limit; the rest is counted as dropped. Once cut, nothing more is kept. */
  private withinLimit(text: string): string {
    if (text === '') return '';
    if (this.dropped.bytes === 0) {
      const bytes = Buffer.byteLength(text);
      if (this.storedBytes + bytes <= this.maxStoredBytes) {
        this.storedBytes += bytes;
        this.keptEndsWithNewline = text.endsWith('\n');
        return text;
      }
      // Cut on a character boundary: the decoder holds back a partial character.
      const kept = new StringDecoder('utf8').write(Buffer.from(text).subarray(0, this.maxStoredBytes - this.storedBytes));
      this.storedBytes += Buffer.byteLength(kept);
      if (kept !== '') this.keptEndsWithNewline = kept.endsWith('\n');
      this.countDropped(text.slice(kept.length));
      return kept;
    }
    this.countDropped(text);
    return '';
  }

  private countDropped(text: string): void {
    if (text === '') return;
    this.dropped.bytes += Buffer.byteLength(text);
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.dropped.newlines++;
    this.dropped.endsWithNewline = text.endsWith('\n');
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
