import { Logger } from '@nestjs/common';
import { NewJobEvent } from '@flansible/contracts';
import { batchLimits, SerialBatcher } from './serial-batcher';

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
export class EventBatcher extends SerialBatcher<NewJobEvent[]> {
  private readonly logger = new Logger(EventBatcher.name);
  private pending: NewJobEvent[] = [];

  constructor(
    private readonly append: (events: NewJobEvent[]) => Promise<void>,
    options: EventBatcherOptions = {},
  ) {
    super(batchLimits(options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS, options.flushIntervalMs, options.highWaterMarkEvents));
  }

  /** Queues an event; returns a promise when the producer should pause until it resolves. */
  add(event: NewJobEvent): Promise<void> | undefined {
    this.pending.push(event);
    return this.scheduled();
  }

  protected pendingSize(): number {
    return this.pending.length;
  }

  protected takeBatch(): NewJobEvent[] {
    return this.pending.splice(0, this.limits.maxBatch);
  }

  protected async store(batch: NewJobEvent[]): Promise<void> {
    try {
      await this.append(batch);
    } catch (err) {
      const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      this.logger.error(`Could not store ${batch.length} job event(s): ${why}`);
    }
  }
}
