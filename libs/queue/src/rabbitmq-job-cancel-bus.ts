import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { Topology } from '@flansible/contracts';
import { CancelRequest, JobCancelBus } from './job-cancel-bus';
import { QueueUnavailableError } from './job-queue';
import { parseJsonObject, processQueueName, publishConfirmed, restartCancelledConsumer } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { CancelHandlers } from './cancel-handlers';
import { ManagedChannel } from './managed-channel';
import { declareControlTopology } from './rabbitmq-topology';

export interface RabbitMqJobCancelBusOptions extends BrokerConnectionOptions {
  /** Shown in the management UI's connection list, e.g. `flansible-gateway-control@host:1234`. */
  connectionName: string;
  /** Upper bound for requestCancel() (a usable channel plus the broker's confirm) and for onCancel(). */
  requestTimeoutMs: number;
  /** `appId` stamped on published cancel requests. Default `flansible`. */
  appId?: string;
}

/**
 * The cancel bus over RabbitMQ (distributed deployment): requests on the `flansible.control` fanout,
 * so every runner hears each one. A connection of its own.
 *
 * Two managed channels: a confirm channel for requesting, opened at once (it declares the fanout),
 * and after the first onCancel() one with an exclusive, auto-delete queue for this process, bound to
 * the fanout and consumed without acks. A request is published on the raw confirm channel or fails
 * at once: never buffered for a later reconnect, when its requester was long told it failed.
 */
export class RabbitMqJobCancelBus extends JobCancelBus {
  private readonly logger = new Logger(RabbitMqJobCancelBus.name);
  private readonly connection: BrokerConnection;
  private readonly publisher: ManagedChannel<ConfirmChannel>;
  private listener?: ManagedChannel;
  private readonly handlers = new CancelHandlers(this.logger);
  /** Requests awaiting their confirm; failed at once by close(). */
  private readonly pending = new Set<(error: QueueUnavailableError) => void>();
  private readonly properties: Options.Publish;

  constructor(private readonly options: RabbitMqJobCancelBusOptions) {
    super();
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be a positive number, got ${options.requestTimeoutMs}`);
    }
    this.properties = { persistent: false, contentType: 'application/json', appId: options.appId ?? 'flansible' };
    this.connection = new BrokerConnection(options, { logger: this.logger, closedReason: 'the cancel bus is closed' });
    this.publisher = this.connection.channel<ConfirmChannel>('cancel publishing', {
      confirm: true,
      setup: (channel) => declareControlTopology(channel),
    });
  }

  async requestCancel(request: CancelRequest): Promise<void> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    const channel = await this.publisher.ready(deadline, this.options.requestTimeoutMs);
    const content = Buffer.from(JSON.stringify({ jobId: request.jobId, reason: request.reason }));
    const publishing = publishConfirmed(
      channel,
      { exchange: Topology.controlExchange, routingKey: '', content, options: this.properties },
      { subject: `the cancel request for job ${request.jobId}`, deadline, timeoutMs: this.options.requestTimeoutMs },
    );
    this.pending.add(publishing.fail);
    try {
      await publishing.confirmed;
    } finally {
      this.pending.delete(publishing.fail);
    }
  }

  /**
   * Subscribes this process to cancel requests. Resolves once the subscription is live, or at once
   * if the broker is unreachable (it is made when the broker comes back; requests sent meanwhile are
   * not seen). Never later than requestTimeoutMs.
   */
  async onCancel(handler: (request: CancelRequest) => void): Promise<void> {
    this.connection.throwIfClosed();
    this.handlers.add(handler);
    this.listener ??= this.connection.channel('cancel listener', { setup: (channel) => this.setUpListener(channel) });
    await this.listener.settled(Date.now() + this.options.requestTimeoutMs);
  }

  close(): Promise<void> {
    return this.connection.close(() => {
      this.handlers.clear();
      for (const fail of [...this.pending]) fail(new QueueUnavailableError('the cancel bus is closed'));
    });
  }

  private async setUpListener(channel: Channel): Promise<void> {
    await declareControlTopology(channel);
    // A fresh name per connection: the broker may not yet have noticed that the last one died.
    const queue = processQueueName(Topology.controlExchange);
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, Topology.controlExchange, '');
    await channel.consume(queue, (message) => this.onMessage(channel, message), { noAck: true, exclusive: true });
    this.logger.log(`Listening for cancel requests on ${queue}`);
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      restartCancelledConsumer(channel, 'cancel requests', this.logger);
      return;
    }
    const request = parseCancelRequest(message.content);
    if (!request) {
      this.logger.warn('Ignoring an unreadable cancel request');
      return;
    }
    this.handlers.tell(request);
  }
}

function parseCancelRequest(content: Buffer): CancelRequest | null {
  const value = parseJsonObject(content);
  if (!value || typeof value.jobId !== 'string' || typeof value.reason !== 'string') return null;
  return { jobId: value.jobId, reason: value.reason };
}
