import { Logger } from '@nestjs/common';
import { JobMessage, Topology } from '@flansible/contracts';
import { JobHandler, JobQueue, QueueUnavailableError } from './job-queue';

interface QueuedJob {
  message: JobMessage;
  /** Deliveries so far, this one included once handed to the handler. */
  deliveries: number;
}

/**
 * The job bus of the embedded deployment: gateway and runner in one process, no broker. It mirrors
 * the RabbitMQ semantics the runner relies on (FIFO, at most `concurrency` handlers at once, a failed
 * handler gets the message back with redelivered=true, bounded retries), but nothing survives a
 * restart: the store, not this queue, is the record of queued jobs.
 */
export class InProcessJobQueue extends JobQueue {
  private readonly logger = new Logger(InProcessJobQueue.name);
  private readonly waiting: QueuedJob[] = [];
  private consumer?: { handler: JobHandler; concurrency: number };
  private running = 0;
  private closed = false;
  /** stopConsuming() was called: nothing more is handed to the handler. */
  private consumingStopped = false;

  async publish(message: JobMessage): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the job queue is closed');
    // A serialised copy, as over the wire: the handler never shares objects with the publisher.
    this.waiting.push({ message: JSON.parse(JSON.stringify(message)) as JobMessage, deliveries: 0 });
    this.drain();
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    if (this.closed) throw new QueueUnavailableError('the job queue is closed');
    if (this.consumer) throw new Error('consume() was already called on this job queue');
    this.consumer = { handler, concurrency };
    this.drain();
  }

  /** Stops handing out work. Handlers already running finish on their own; queued jobs are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.waiting.length > 0) {
      this.logger.warn(`Closing with ${this.waiting.length} undelivered job(s); the store still lists them as queued`);
    }
  }

  /** Jobs waiting for a free handler slot. */
  get depth(): number {
    return this.waiting.length;
  }

  private drain(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    while (!this.closed && !this.consumingStopped && this.running < consumer.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as QueuedJob;
      job.deliveries++;
      this.running++;
      void this.deliver(consumer.handler, job).finally(() => {
        this.running--;
        this.drain();
      });
    }
  }

  private async deliver(handler: JobHandler, job: QueuedJob): Promise<void> {
    // Never inside publish()'s call: the publisher finishes its own step first, as with a broker.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) return; // closed meanwhile: not started, and the store still lists it as queued
    if (this.consumingStopped) {
      // Stopped meanwhile (a drain): not started, so it waits again, first in line.
      job.deliveries--;
      this.waiting.unshift(job);
      return;
    }
    try {
      await handler(job.message, { redelivered: job.deliveries > 1 });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // Same budget as the quorum queue's x-delivery-limit: that many returns, so deliveryLimit + 1
      // deliveries in all, then RabbitMQ dead-letters it (measured on RabbitMQ 3.10).
      if (job.deliveries > Topology.deliveryLimit) {
        this.logger.error(
          `Dropping job ${job.message.jobId} after ${job.deliveries} failed deliveries: ${reason}`,
        );
        return;
      }
      this.logger.warn(`Job ${job.message.jobId} failed on delivery ${job.deliveries}; requeueing it: ${reason}`);
      // Back to the head, as a quorum queue does with a returned message (measured on RabbitMQ 3.10).
      if (!this.closed) this.waiting.unshift(job);
    }
  }

  async stopConsuming(): Promise<void> {
    this.consumingStopped = true;
  }

  get consuming(): boolean {
    return this.consumer !== undefined && !this.consumingStopped && !this.closed;
  }

  get canPublish(): boolean {
    return !this.closed;
  }
}
