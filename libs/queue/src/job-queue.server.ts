import { Logger } from '@nestjs/common';
import { BaseRpcContext, CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { JobMessage, JobPatterns } from '@flansible/contracts';
import { DeliveryInfo, JobQueue } from './job-queue';
import { HeldDeliveries } from './job-queue-stats';

/** What a job handler gets with the message (`@Ctx()`): how the queue delivered it. */
export class JobDeliveryContext extends BaseRpcContext<[DeliveryInfo]> {
  getDelivery(): DeliveryInfo {
    return this.args[0];
  }
}

/**
 * A Nest transport over the JobQueue port, so the runner's job handler is a plain
 * `@EventPattern(JobPatterns.Queued)` method with Nest's pipes, interceptors and filters. It keeps
 * the queue's semantics, which Nest's built-in RMQ transport does not (it acks on receipt or never,
 * buffers publishes while the broker is down, consumes one queue): prefetch = concurrency, the
 * message is acked only once the handler's promise resolved, a rejection (the handler's, or the
 * error its exception filter returns) returns it, and the adapter dead-letters what it cannot read.
 * The same class serves both deployments: RabbitMQ or the in-process queue behind the port.
 */
export class JobQueueServer extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger(JobQueueServer.name);
  constructor(
    private readonly queue: JobQueue,
    private readonly concurrency: number,
    /** The deliveries in progress: the metrics' unacked messages, and what a drain waits for. */
    private readonly held = new HeldDeliveries(),
  ) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.queue.consume((message, delivery) => this.held.track(() => this.dispatch(message, delivery)), this.concurrency);
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /** Resolves (ack) when the handler's result completed; rejects (message returned) otherwise. */
  private async dispatch(message: JobMessage, delivery: DeliveryInfo): Promise<void> {
    const handler = this.getHandlerByPattern(JobPatterns.Queued);
    // Returned, not dead-lettered: an app without the handler is misassembled, the message is fine.
    if (!handler) throw new Error(`No handler for ${JobPatterns.Queued}: is ExecutionModule imported?`);
    const result = await handler(message, new JobDeliveryContext([delivery]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }

  /**
   * No more messages (a drain usually stopped them already). The queue's connections belong to
   * QueueModule, which closes them at shutdown.
   */
  async close(): Promise<void> {
    await this.queue.stopConsuming();
  }

  /** Takes no more messages; those not yet handed to the handler go back to the queue at once. */
  stopConsuming(): Promise<void> {
    return this.queue.stopConsuming();
  }

  /** How many messages are being handled now. */
  get handling(): number {
    return this.held.count;
  }

  /** Resolves once no message is being handled (after stopConsuming(): once the last has ended). */
  async idle(): Promise<void> {
    await this.held.idle();
  }

  /** The queue has no transport events to subscribe to. */
  on(): never {
    throw new Error('JobQueueServer has no events');
  }

  unwrap<T>(): T {
    return this.queue as T;
  }
}
