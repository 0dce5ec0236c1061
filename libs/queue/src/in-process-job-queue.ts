import { Logger } from '@nestjs/common';
import { JobMessage, Topology, parseJobMessage } from '@flansible/contracts';
import { JobHandler, JobQueue, QueueUnavailableError } from './job-queue';
import { checkRetryDelays, describeDelay, retryDelay } from './retry-schedule';

interface QueuedJob {
  message: JobMessage;
  /** Deliveries so far, this one included once handed to the handler. */
  deliveries: number;
}

/**
 * The job bus of the embedded deployment: gateway and runner in one process, no broker. It mirrors
 * the RabbitMQ semantics the runner relies on (FIFO, at most `concurrency` handlers at once, a failed
 * handler gets the message back with redelivered=true after a growing delay, bounded retries), but
 * nothing survives a restart: the store, not this queue, is the record of queued jobs.
 */
export class InProcessJobQueue extends JobQueue {
  private readonly logger = new Logger(InProcessJobQueue.name);
  private readonly waiting: QueuedJob[] = [];
  /** Failed jobs waiting out their retry delay. */
  private readonly delayed = new Set<NodeJS.Timeout>();
  private consumer?: { handler: JobHandler; concurrency: number };
  private running = 0;
  private closed = false;
  private readonly retryDelaysMs: readonly number[];

  /** `retryDelaysMs`: a seam for specs; the deployment uses Topology.retryDelaysMs, as RabbitMQ does. */
  constructor(options: { retryDelaysMs?: readonly number[] } = {}) {
    super();
    this.retryDelaysMs = checkRetryDelays(options.retryDelaysMs ?? Topology.retryDelaysMs);
  }
  /** stopConsuming() was called: nothing more is handed to the handler. */
  private consumingStopped = false;

  async publish(message: JobMessage): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the job queue is closed');
    // A serialised copy, as over the wire, read back by the runner's parser (which throws on a
    // message it would refuse): the handler never shares objects with the publisher.
    this.waiting.push({ message: parseJobMessage(JSON.parse(JSON.stringify(message))), deliveries: 0 });
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
    for (const timer of this.delayed) clearTimeout(timer);
    const undelivered = this.depth;
    this.delayed.clear();
    if (undelivered > 0) {
      this.logger.warn(`Closing with ${undelivered} undelivered job(s); the store still lists them as queued`);
    }
  }

  /** Jobs waiting for a free handler slot or for their retry delay. */
  get depth(): number {
    return this.waiting.length + this.delayed.size;
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
      // The same schedule as the RabbitMQ queue: deliveryLimit + 1 deliveries in all, then dropped.
      const delay = retryDelay(job.deliveries, this.retryDelaysMs);
      if (delay === null) {
        this.logger.error(
          `Dropping job ${job.message.jobId} after ${job.deliveries} failed deliveries: ${reason}`,
        );
        return;
      }
      this.logger.warn(
        `Job ${job.message.jobId} failed on delivery ${job.deliveries} of ${Topology.deliveryLimit + 1}; ` +
          `retrying in ${describeDelay(delay)}: ${reason}`,
      );
      if (!this.closed) this.retryLater(job, delay);
    }
  }

  /** Back at the tail once the delay is over, as a message leaving a RabbitMQ retry queue. */
  private retryLater(job: QueuedJob, delayMs: number): void {
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (this.closed) return;
      this.waiting.push(job);
      this.drain();
    }, delayMs);
    // The store, not this timer, keeps the job: it must not hold a stopping process up.
    timer.unref();
    this.delayed.add(timer);
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
