import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { ChannelWrapper } from 'amqp-connection-manager';
import {
  JobHeaders,
  JobMessage,
  Topology,
  inventoryOf,
  isJobMessage,
  jobRoutingKey,
  retryQueueName,
} from '@flansible/contracts';
import { JobHandler, JobQueue, QueueUnavailableError } from './job-queue';
import { errorMessage, publishConfirmed, sleep, withTimeout } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { declareJobTopology, declareRetryTopology } from './rabbitmq-topology';
import { checkRetryDelays, describeDelay, retryDelay } from './retry-schedule';

export interface RabbitMqJobQueueOptions extends BrokerConnectionOptions {
  /** Upper bound for publish(): waiting for a usable channel plus the broker's confirm. */
  publishTimeoutMs: number;
  /** `appId` stamped on published messages. Default `flansible-gateway`. */
  appId?: string;
  /**
   * A channel the broker closed while the connection stayed up (e.g. a queue or exchange deleted under
   * it) is not reopened by amqp-connection-manager until the next reconnect; after this delay we force
   * one. Also the delay before redeclaring the topology after an unroutable publish. Default 5.
   */
  channelRecoverySeconds?: number;
  /** A seam for specs: the delays before each retry of a failed message. Default Topology.retryDelaysMs. */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_APP_ID = 'flansible-gateway';

interface ActiveConsumer {
  channel: ConfirmChannel;
  consumerTag: string;
}

/** Set by the broker on each delivery of a quorum queue; a copy put in a retry queue starts afresh. */
const BROKER_DELIVERY_COUNT = 'x-delivery-count';

/**
 * The job bus over RabbitMQ (distributed deployment), on amqplib + amqp-connection-manager.
 *
 * One connection per instance, with up to two channels: a confirm channel for publishing (opened at
 * once, so the topology exists even before the first job) and, after consume(), a consumer channel
 * (a confirm channel too: a failed message is parked in a retry queue before it is acked). Both
 * redeclare the topology in their setup function, which runs again after every reconnect.
 *
 * A message whose handler failed does not go straight back (all its retries would be spent within
 * a second): a copy waits in the retry queue of its delay (1 s, 2 s, 4 s...) and then returns to
 * the jobs queue, carrying its retry count in a header; past the delivery limit it is dead-lettered.
 *
 * Publishing deliberately bypasses ChannelWrapper.publish(): the wrapper keeps unsent messages and
 * sends them after a reconnect, which would queue a job whose submitter was already told it failed.
 * We publish on the raw confirm channel captured in the setup function, or fail at once.
 */
export class RabbitMqJobQueue extends JobQueue {
  private readonly logger = new Logger(RabbitMqJobQueue.name);
  private readonly connection: BrokerConnection;
  private consumerWrapper?: ChannelWrapper;

  /** The raw confirm channel, set once its topology is declared; absent while (re)connecting. */
  private publishChannel?: ConfirmChannel;
  private consumer?: ActiveConsumer;
  /** Publishes awaiting their confirm, by job id; a basic.return marks one unroutable. */
  private readonly unconfirmed = new Map<string, { returned: boolean }>();
  /** Why the publishing channel is gone while the connection is up (setup failed, broker closed it). */
  private publisherFault: string | null = null;
  private redeclaring?: Promise<void>;
  private readonly retryDelaysMs: readonly number[];
  /** Retry copies awaiting their confirm, by job id; a basic.return marks one unroutable. */
  private readonly unconfirmedRetries = new Map<string, { returned: boolean }>();
  /** stopConsuming() was called: no consumer again, even after a reconnect. */
  private consumingStopped = false;

  constructor(private readonly options: RabbitMqJobQueueOptions) {
    super();
    if (!(options.publishTimeoutMs > 0)) {
      throw new RangeError(`publishTimeoutMs must be a positive number, got ${options.publishTimeoutMs}`);
    }
    this.retryDelaysMs = checkRetryDelays(options.retryDelaysMs ?? Topology.retryDelaysMs);
    this.connection = new BrokerConnection(options, {
      logger: this.logger,
      closedReason: 'the job queue is closed',
      onConnect: () => (this.publisherFault = null), // the setup function is about to open a fresh channel
      onDisconnect: () => (this.publishChannel = undefined),
    });
    // Opened at once, so the topology exists even before the first job.
    this.connection.openChannel(
      'publishing',
      true,
      (channel) => this.setUpPublisher(channel as ConfirmChannel),
      (err) => {
        this.publisherFault = `could not set up the RabbitMQ publishing channel: ${err.message}`;
        this.logger.error(`Could not set up the RabbitMQ publishing channel: ${err.message}`);
        this.connection.notifyStateChanged();
      },
    );
  }

  async publish(message: JobMessage): Promise<void> {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    const channel = await this.connection.channelBefore({
      current: () => this.publishChannel,
      deadline,
      timeoutMs: this.options.publishTimeoutMs,
      fault: () => this.publisherFault,
    });
    await this.publishAndConfirm(channel, message, deadline);
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.connection.throwIfClosed();
    if (this.consumerWrapper) throw new Error('consume() was already called on this job queue');

    // Not awaited: a runner may start while the broker is down; the setup function starts the
    // consumer whenever a connection comes up.
    this.consumerWrapper = this.connection.openChannel(
      'consumer',
      true,
      (channel) => this.setUpConsumer(channel as ConfirmChannel, handler, concurrency),
      (err) => this.logger.error(`Could not start consuming ${Topology.jobsQueue}: ${err.message}`),
    );
  }

  close(): Promise<void> {
    // Before the connection goes: publishes fail, and no new deliveries.
    return this.connection.close(() => {
      this.publishChannel = undefined;
      return this.stopConsuming();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  private async setUpPublisher(channel: ConfirmChannel): Promise<void> {
    this.connection.watchChannel(channel, 'publishing', {
      current: () => this.publishChannel,
      clear: () => (this.publishChannel = undefined),
      // Until the recovery reconnect reopens it, publishes fail at once with this reason.
      onError: (err) => (this.publisherFault = `RabbitMQ closed the publishing channel: ${err.message}`),
    });
    channel.on('return', (returned: Message) => {
      const pending = this.unconfirmed.get(String(returned.properties.messageId));
      if (pending) pending.returned = true;
      this.redeclareTopology(channel);
    });
    await declareJobTopology(channel);
    if (this.connection.hasClosed(channel)) return;
    this.publishChannel = channel;
    this.publisherFault = null;
    this.connection.notifyStateChanged();
  }

  /**
   * An unroutable job means the queue or its bindings vanished (deleted by hand, definitions reset)
   * while the connection stayed up: declare them again so later publishes land. Not at once: RabbitMQ
   * tells consumers of a deleted quorum queue some tens of milliseconds later, and a queue of the
   * same name recreated before that leaves those consumers attached to nothing (seen on 3.10).
   */
  private redeclareTopology(channel: ConfirmChannel): void {
    if (this.redeclaring || this.connection.hasClosed(channel)) return;
    this.logger.warn(`A job came back unroutable from ${Topology.jobsExchange}; declaring the job topology again`);
    this.redeclaring = sleep(this.connection.channelRecoveryMs)
      .then(() => (this.connection.hasClosed(channel) ? undefined : declareJobTopology(channel)))
      .catch((err: unknown) => this.logger.warn(`Could not declare the job topology: ${errorMessage(err)}`))
      .finally(() => (this.redeclaring = undefined));
  }

  private async publishAndConfirm(channel: ConfirmChannel, message: JobMessage, deadline: number): Promise<void> {
    const { jobId } = message;
    const routingKey = jobRoutingKey(message.spec.kind);
    const inventory = inventoryOf(message.spec);
    const headers: Record<string, string> = {
      [JobHeaders.kind]: message.spec.kind,
      [JobHeaders.user]: message.submittedBy,
    };
    if (inventory !== null) headers[JobHeaders.inventory] = inventory;
    if (message.requestId) headers[JobHeaders.requestId] = message.requestId;
    const options: Options.Publish = {
      persistent: true,
      // An unroutable job (missing binding) comes back instead of being confirmed and silently dropped.
      mandatory: true,
      messageId: jobId,
      type: Topology.jobMessageType,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      timestamp: Math.floor(Date.now() / 1000),
      appId: this.options.appId ?? DEFAULT_APP_ID,
      headers,
    };
    const content = Buffer.from(JSON.stringify(message));

    // Registered before publishing: a basic.return arrives before the confirm it spoils.
    const pending = { returned: false };
    this.unconfirmed.set(jobId, pending);
    try {
      await publishConfirmed(
        channel,
        { exchange: Topology.jobsExchange, routingKey, content, options },
        {
          subject: `job ${jobId}`,
          deadline,
          timeoutMs: this.options.publishTimeoutMs,
          failureDespiteAck: () =>
            pending.returned
              ? new QueueUnavailableError(
                  `RabbitMQ could not route job ${jobId}: no queue bound to ${Topology.jobsExchange} for ${routingKey}`,
                )
              : undefined,
        },
      ).confirmed;
    } finally {
      if (this.unconfirmed.get(jobId) === pending) this.unconfirmed.delete(jobId);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Consuming

  private async setUpConsumer(channel: ConfirmChannel, handler: JobHandler, concurrency: number): Promise<void> {
    this.connection.watchChannel(channel, 'consumer', {
      current: () => this.consumer?.channel,
      clear: () => (this.consumer = undefined),
    });
    channel.on('return', (returned: Message) => {
      const pending = this.unconfirmedRetries.get(String(returned.properties.messageId));
      if (pending) pending.returned = true;
    });
    await declareJobTopology(channel);
    await declareRetryTopology(channel, this.retryDelaysMs);
    if (this.connection.isClosed || this.consumingStopped) return;
    // Per-consumer prefetch (quorum queues do not support global QoS) = how many jobs run at once.
    await channel.prefetch(concurrency);
    const { consumerTag } = await channel.consume(
      Topology.jobsQueue,
      (delivery) => {
        if (delivery === null) {
          // The broker cancelled us (queue deleted, leader moved away...). Closing the channel lets
          // the recovery reconnect redeclare the queue and consume again.
          this.logger.warn(`RabbitMQ cancelled the consumer of ${Topology.jobsQueue}; restarting it`);
          channel.close().catch(() => undefined);
          return;
        }
        if (this.consumingStopped) {
          // Sent before the broker took our basic.cancel: back to the queue at once, for other runners.
          this.settle(channel, delivery, 'requeue');
          return;
        }
        void this.handleDelivery(channel, delivery, handler);
      },
      { noAck: false },
    );
    this.consumer = { channel, consumerTag };
    // stopConsuming() while basic.consume was on its way: cancel this consumer too.
    if (this.consumingStopped) return this.stopConsuming();
    this.logger.log(`Consuming ${Topology.jobsQueue} with prefetch ${concurrency}`);
  }

  private async handleDelivery(channel: ConfirmChannel, delivery: ConsumeMessage, handler: JobHandler): Promise<void> {
    const message = parseJobMessage(delivery.content);
    if (!message) {
      this.logger.error(
        `Dead-lettering an unreadable message (messageId ${String(delivery.properties.messageId ?? 'none')}, ` +
          `routing key ${delivery.fields.routingKey}): the body is not a valid job message`,
      );
      this.settle(channel, delivery, 'dead-letter');
      return;
    }
    const retries = retriesOf(delivery);
    try {
      await handler(message, { redelivered: delivery.fields.redelivered || retries > 0 });
    } catch (err) {
      await this.retryLater(channel, delivery, message.jobId, retries, errorMessage(err));
      return;
    }
    this.settle(channel, delivery, 'ack');
  }

  /**
   * A failed delivery: a copy with one more retry goes to the retry queue of its delay, and the
   * original is acked once the broker has confirmed the copy (a crash in between leaves both: the
   * runner's claim makes the extra one harmless). Past the limit, the message is dead-lettered; if
   * the copy cannot be parked, the message goes straight back, as it did before retry queues.
   */
  private async retryLater(channel: ConfirmChannel, delivery: ConsumeMessage, jobId: string, retries: number, reason: string): Promise<void> {
    // The broker redelivers a message whose channel closed: a copy now would be one too many.
    if (this.connection.hasClosed(channel)) return;
    const deliveries = `delivery ${retries + 1} of ${Topology.deliveryLimit + 1}`;
    const delay = retryDelay(retries + 1, this.retryDelaysMs);
    if (delay === null) {
      this.logger.error(`Job ${jobId} failed on ${deliveries}; dead-lettering it to ${Topology.deadLetterQueue}: ${reason}`);
      this.settle(channel, delivery, 'dead-letter');
      return;
    }
    const retryQueue = retryQueueName(delay);
    this.logger.warn(`Job ${jobId} failed on ${deliveries}; retrying in ${describeDelay(delay)} (through ${retryQueue}): ${reason}`);
    const headers: Record<string, unknown> = { ...delivery.properties.headers, [JobHeaders.retries]: retries + 1 };
    delete headers[BROKER_DELIVERY_COUNT];
    const { properties } = delivery;
    const pending = { returned: false };
    this.unconfirmedRetries.set(jobId, pending);
    try {
      await publishConfirmed(
        channel,
        {
          exchange: '',
          routingKey: retryQueue,
          content: delivery.content,
          options: {
            persistent: true,
            mandatory: true,
            messageId: properties.messageId,
            type: properties.type,
            contentType: properties.contentType,
            contentEncoding: properties.contentEncoding,
            timestamp: properties.timestamp,
            appId: properties.appId,
            headers,
          },
        },
        {
          subject: `the retry of job ${jobId}`,
          deadline: Date.now() + this.options.publishTimeoutMs,
          timeoutMs: this.options.publishTimeoutMs,
          failureDespiteAck: () => (pending.returned ? new QueueUnavailableError(`no queue ${retryQueue}`) : undefined),
        },
      ).confirmed;
    } catch (err) {
      this.logger.warn(`Could not park job ${jobId} in ${retryQueue} (${errorMessage(err)}); returning it to ${Topology.jobsQueue} at once`);
      this.settle(channel, delivery, 'requeue');
      return;
    } finally {
      if (this.unconfirmedRetries.get(jobId) === pending) this.unconfirmedRetries.delete(jobId);
    }
    this.settle(channel, delivery, 'ack');
  }

  /** Settles on the channel the delivery arrived on; if that channel is gone the broker redelivers. */
  private settle(channel: Channel, delivery: ConsumeMessage, outcome: 'ack' | 'requeue' | 'dead-letter'): void {
    if (this.connection.hasClosed(channel)) {
      this.logger.debug(
        `Not settling ${String(delivery.properties.messageId)}: its channel closed; RabbitMQ redelivers it`,
      );
      return;
    }
    try {
      if (outcome === 'ack') channel.ack(delivery);
      else channel.nack(delivery, false, outcome === 'requeue');
    } catch (err) {
      this.logger.debug(`Could not ${outcome} ${String(delivery.properties.messageId)}: ${errorMessage(err)}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * basic.cancel: the broker sends no more, and keeps the unacked messages of running handlers with
   * the channel, where they are acked as usual. Also the first step of close().
   */
  async stopConsuming(): Promise<void> {
    this.consumingStopped = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer && !this.connection.hasClosed(consumer.channel)) {
      await withTimeout(
        consumer.channel.cancel(consumer.consumerTag).catch(() => undefined),
        this.connection.closeTimeoutMs,
      );
    }
  }

  get consuming(): boolean {
    return this.consumer !== undefined && !this.consumingStopped && !this.connection.isClosed;
  }

  /** The confirm channel is open on a live connection, and the broker is not blocking publishers. */
  get canPublish(): boolean {
    return this.publishChannel !== undefined && this.connection.blockedReason === null && !this.connection.isClosed;
  }
}

/** Retries a message has spent: its header, when it is a whole number (anyone may publish; garbage counts as none). */
function retriesOf(delivery: ConsumeMessage): number {
  const value = Number(delivery.properties.headers?.[JobHeaders.retries] ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function parseJobMessage(content: Buffer): JobMessage | null {
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    return isJobMessage(value) ? value : null;
  } catch {
    return null;
  }
}
