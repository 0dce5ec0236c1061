import { Logger } from '@nestjs/common';
import { ConfirmChannel, Message, Options } from 'amqplib';
import { JobHeaders, JobMessage, Topology, inventoryOf, jobRoutingKey } from '@flansible/contracts';
import { JobHandler, JobQueue, QueueUnavailableError } from './job-queue';
import { errorMessage, publishConfirmed, sleep, withTimeout, restartCancelledConsumer } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { ManagedChannel } from './managed-channel';
import { RabbitMqJobDeliveries } from './rabbitmq-job-deliveries';
import { declareJobTopology, declareRetryTopology } from './rabbitmq-topology';
import { checkRetryDelays } from './retry-schedule';

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

/** Our consumer on the jobs queue, for basic.cancel. */
interface ActiveConsumer {
  channel: ConfirmChannel;
  consumerTag: string;
}

/**
 * The job bus over RabbitMQ (distributed deployment), on amqplib + amqp-connection-manager.
 *
 * One connection per instance, with up to two channels: a confirm channel for publishing (opened at
 * once, so the topology exists even before the first job) and, after consume(), a consumer channel
 * (a confirm channel too: a failed message is parked in a retry queue before it is acked). Both
 * redeclare the topology in their setup function, which runs again after every reconnect.
 *
 * A message whose handler failed does not go straight back (all its retries would be spent within
 * a second): RabbitMqJobDeliveries parks a copy in the retry queue of its delay, from which it
 * returns to the jobs queue carrying its retry count in a header; past the delivery limit it is
 * dead-lettered.
 *
 * Publishing deliberately bypasses ChannelWrapper.publish(): the wrapper keeps unsent messages and
 * sends them after a reconnect, which would queue a job whose submitter was already told it failed.
 * We publish on the raw confirm channel captured in the setup function, or fail at once.
 */
export class RabbitMqJobQueue extends JobQueue {
  private readonly logger = new Logger(RabbitMqJobQueue.name);
  private readonly connection: BrokerConnection;
  /** The confirm channel for publishing: opened at once, so the topology exists even before the first job. */
  private readonly publisher: ManagedChannel<ConfirmChannel>;
  /** After consume(): the consumer channel. */
  private consumerChannel?: ManagedChannel<ConfirmChannel>;
  private consumer?: ActiveConsumer;
  private readonly deliveries: RabbitMqJobDeliveries;
  /** Publishes awaiting their confirm, by job id; a basic.return marks one unroutable. */
  private readonly unconfirmed = new Map<string, { returned: boolean }>();
  private redeclaring?: Promise<void>;
  private readonly retryDelaysMs: readonly number[];
  /** stopConsuming() was called: no consumer again, even after a reconnect. */
  private consumingStopped = false;

  constructor(private readonly options: RabbitMqJobQueueOptions) {
    super();
    if (!(options.publishTimeoutMs > 0)) {
      throw new RangeError(`publishTimeoutMs must be a positive number, got ${options.publishTimeoutMs}`);
    }
    this.retryDelaysMs = checkRetryDelays(options.retryDelaysMs ?? Topology.retryDelaysMs);
    this.connection = new BrokerConnection(options, { logger: this.logger, closedReason: 'the job queue is closed' });
    this.deliveries = new RabbitMqJobDeliveries({
      logger: this.logger,
      retryDelaysMs: this.retryDelaysMs,
      publishTimeoutMs: options.publishTimeoutMs,
      hasClosed: (channel) => this.connection.hasClosed(channel),
    });
    this.publisher = this.connection.channel<ConfirmChannel>('publishing', {
      confirm: true,
      setup: (channel) => this.setUpPublisher(channel),
    });
  }

  async publish(message: JobMessage): Promise<void> {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    const channel = await this.publisher.ready(deadline, this.options.publishTimeoutMs);
    await this.publishAndConfirm(channel, message, deadline);
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.connection.throwIfClosed();
    if (this.consumerChannel) throw new Error('consume() was already called on this job queue');

    // Not awaited: a runner may start while the broker is down; the setup function starts the
    // consumer whenever a connection comes up.
    this.consumerChannel = this.connection.channel<ConfirmChannel>('consumer', {
      confirm: true,
      setup: (channel) => this.setUpConsumer(channel, handler, concurrency),
    });
  }

  close(): Promise<void> {
    // Before the connection goes: no new deliveries.
    return this.connection.close(() => this.stopConsuming());
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  private async setUpPublisher(channel: ConfirmChannel): Promise<void> {
    channel.on('return', (returned: Message) => {
      const pending = this.unconfirmed.get(String(returned.properties.messageId));
      if (pending) pending.returned = true;
      this.redeclareTopology(channel);
    });
    await declareJobTopology(channel);
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
    this.deliveries.watchReturns(channel);
    await declareJobTopology(channel);
    await declareRetryTopology(channel, this.retryDelaysMs);
    if (this.connection.isClosed || this.consumingStopped) return;
    // Per-consumer prefetch (quorum queues do not support global QoS) = how many jobs run at once.
    await channel.prefetch(concurrency);
    const { consumerTag } = await channel.consume(
      Topology.jobsQueue,
      (delivery) => {
        if (delivery === null) {
          restartCancelledConsumer(channel, Topology.jobsQueue, this.logger);
          return;
        }
        if (this.consumingStopped) {
          // Sent before the broker took our basic.cancel: back to the queue at once, for other runners.
          this.deliveries.settle(channel, delivery, 'requeue');
          return;
        }
        void this.deliveries.handle(channel, delivery, handler);
      },
      { noAck: false },
    );
    this.consumer = { channel, consumerTag };
    // stopConsuming() while basic.consume was on its way: cancel this consumer too.
    if (this.consumingStopped) return this.stopConsuming();
    this.logger.log(`Consuming ${Topology.jobsQueue} with prefetch ${concurrency}`);
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
    const channel = this.consumerChannel?.current;
    return channel !== undefined && this.consumer?.channel === channel && !this.consumingStopped && !this.connection.isClosed;
  }

  /** The confirm channel is open on a live connection, and the broker is not blocking publishers. */
  get canPublish(): boolean {
    return this.publisher.current !== undefined && this.connection.blockedReason === null && !this.connection.isClosed;
  }
}
