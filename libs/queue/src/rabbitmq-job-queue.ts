import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import { AmqpConnectionManager, ChannelWrapper, connect } from 'amqp-connection-manager';
import {
  JobHeaders,
  JobMessage,
  Topology,
  inventoryOf,
  isJobMessage,
  jobRoutingKey,
} from '@flansible/contracts';
import { JobHandler, JobQueue, QueueUnavailableError } from './job-queue';
import { describeBroker, errorMessage, sleep, withTimeout } from './amqp-helpers';
import { declareJobTopology } from './rabbitmq-topology';

export interface RabbitMqJobQueueOptions {
  /** amqp:// or amqps:// URL, vhost included. Never logged with its credentials. */
  url: string;
  /** Upper bound for publish(): waiting for a usable channel plus the broker's confirm. */
  publishTimeoutMs: number;
  /** Shown in the management UI's connection list, e.g. `flansible-gateway@host:1234`. */
  connectionName: string;
  /** `appId` stamped on published messages. Default `flansible-gateway`. */
  appId?: string;
  /** AMQP heartbeat; a silently dead broker is noticed after about twice this. Default 10. */
  heartbeatSeconds?: number;
  /** Pause between reconnect attempts. Default 1. */
  reconnectSeconds?: number;
  /** Limit for one connection attempt (TCP + AMQP handshake). Default 5000. */
  connectTimeoutMs?: number;
  /** close() gives up waiting for the broker after this long. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * A channel the broker closed while the connection stayed up (e.g. a queue or exchange deleted under
   * it) is not reopened by amqp-connection-manager until the next reconnect; after this delay we force
   * one. Also the delay before redeclaring the topology after an unroutable publish. Default 5.
   */
  channelRecoverySeconds?: number;
}

const DEFAULT_APP_ID = 'flansible-gateway';

interface ActiveConsumer {
  channel: Channel;
  consumerTag: string;
}

/**
 * The job bus over RabbitMQ (distributed deployment), on amqplib + amqp-connection-manager.
 *
 * One connection per instance, with up to two channels: a confirm channel for publishing (opened at
 * once, so the topology exists even before the first job) and, after consume(), a consumer channel.
 * Both redeclare the topology in their setup function, which runs again after every reconnect.
 *
 * Publishing deliberately bypasses ChannelWrapper.publish(): the wrapper keeps unsent messages and
 * sends them after a reconnect, which would queue a job whose submitter was already told it failed.
 * We publish on the raw confirm channel captured in the setup function, or fail at once.
 */
export class RabbitMqJobQueue extends JobQueue {
  private readonly logger = new Logger(RabbitMqJobQueue.name);
  private readonly manager: AmqpConnectionManager;
  private readonly publisher: ChannelWrapper;
  private consumerWrapper?: ChannelWrapper;

  /** The raw confirm channel, set once its topology is declared; absent while (re)connecting. */
  private publishChannel?: ConfirmChannel;
  private consumer?: ActiveConsumer;
  private readonly closedChannels = new WeakSet<Channel>();
  /** Publishes awaiting their confirm, by job id; a basic.return marks one unroutable. */
  private readonly unconfirmed = new Map<string, { returned: boolean }>();

  /** Bumped on every connect; tells a stale channel-recovery timer that a reconnect already happened. */
  private connectionGeneration = 0;
  private recoveringGeneration = -1;
  /** Why the broker cannot be used right now; null while connected or still on the first attempt. */
  private unavailableReason: string | null = null;
  private lastLoggedFailure: string | null = null;
  /** Why the publishing channel is gone while the connection is up (setup failed, broker closed it). */
  private publisherFault: string | null = null;
  private blockedReason: string | null = null;
  /** Woken whenever any of the state above changes (publishers waiting for a channel). */
  private readonly stateWaiters = new Set<() => void>();

  private redeclaring?: Promise<void>;
  private closed = false;
  private closing?: Promise<void>;
  private readonly brokerLabel: string;
  private readonly channelRecoveryMs: number;

  constructor(private readonly options: RabbitMqJobQueueOptions) {
    super();
    if (!(options.publishTimeoutMs > 0)) {
      throw new RangeError(`publishTimeoutMs must be a positive number, got ${options.publishTimeoutMs}`);
    }
    this.brokerLabel = describeBroker(options.url);
    this.channelRecoveryMs = (options.channelRecoverySeconds ?? 5) * 1000;

    this.manager = connect(options.url, {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 10,
      reconnectTimeInSeconds: options.reconnectSeconds ?? 1,
      connectionOptions: {
        timeout: options.connectTimeoutMs ?? 5000,
        clientProperties: { connection_name: options.connectionName },
      },
    });
    this.watchConnection();

    this.publisher = this.manager.createChannel({
      name: 'publisher',
      confirm: true,
      setup: (channel: ConfirmChannel) => this.setUpPublisher(channel),
    });
    this.publisher.on('error', (err: Error) => {
      this.publisherFault = `could not set up the RabbitMQ publishing channel: ${err.message}`;
      this.logger.error(`Could not set up the RabbitMQ publishing channel: ${err.message}`);
      this.wakeWaiters();
    });
  }

  async publish(message: JobMessage): Promise<void> {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    const channel = await this.publishChannelBefore(deadline);
    await this.publishAndConfirm(channel, message, deadline);
  }

  async consume(handler: JobHandler, concurrency: number): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    if (this.closed) throw new QueueUnavailableError('the job queue is closed');
    if (this.consumerWrapper) throw new Error('consume() was already called on this job queue');

    // Not awaited: a runner may start while the broker is down; the setup function starts the
    // consumer whenever a connection comes up.
    this.consumerWrapper = this.manager.createChannel({
      name: 'consumer',
      confirm: false,
      setup: (channel: Channel) => this.setUpConsumer(channel, handler, concurrency),
    });
    this.consumerWrapper.on('error', (err: Error) =>
      this.logger.error(`Could not start consuming ${Topology.jobsQueue}: ${err.message}`),
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------
  // Connection state

  private watchConnection(): void {
    this.manager.on('connect', () => {
      this.connectionGeneration++;
      this.unavailableReason = null;
      this.lastLoggedFailure = null;
      this.blockedReason = null;
      this.publisherFault = null; // the setup function is about to open a fresh channel
      this.logger.log(`Connected to RabbitMQ at ${this.brokerLabel} as ${this.options.connectionName}`);
      this.wakeWaiters();
    });
    this.manager.on('disconnect', ({ err }: { err?: Error }) => {
      const reason = err?.message ?? 'connection closed';
      this.unavailableReason = `lost the connection to RabbitMQ at ${this.brokerLabel}: ${reason}`;
      this.publishChannel = undefined;
      this.logger.warn(`Disconnected from RabbitMQ at ${this.brokerLabel}: ${reason}; reconnecting`);
      this.wakeWaiters();
    });
    this.manager.on('connectFailed', ({ err }: { err: Error }) => {
      const reason = err.message || err.name;
      this.unavailableReason = `cannot connect to RabbitMQ at ${this.brokerLabel}: ${reason}`;
      // Retries run every second while the broker is down: log each distinct failure once.
      if (reason !== this.lastLoggedFailure) {
        this.lastLoggedFailure = reason;
        this.logger.warn(`Cannot connect to RabbitMQ at ${this.brokerLabel}: ${reason}; retrying`);
      }
      this.wakeWaiters();
    });
    this.manager.on('blocked', ({ reason }: { reason: string }) => {
      this.blockedReason = reason;
      this.logger.warn(`RabbitMQ is blocking publishers (resource alarm): ${reason}`);
      this.wakeWaiters();
    });
    this.manager.on('unblocked', () => {
      this.blockedReason = null;
      this.logger.log('RabbitMQ unblocked publishers');
      this.wakeWaiters();
    });
  }

  private wakeWaiters(): void {
    for (const wake of [...this.stateWaiters]) wake();
  }

  /**
   * After a channel closed while its connection stayed up, force a reconnect so the setup functions
   * run again; amqp-connection-manager would otherwise leave the channel closed until the next
   * connection loss.
   */
  private scheduleChannelRecovery(channelName: string, stillLost: () => boolean): void {
    if (this.closed) return;
    const generation = this.connectionGeneration;
    const timer = setTimeout(
      () => {
        if (this.closed || !stillLost() || !this.manager.isConnected()) return;
        // A reconnect since the channel closed has already replaced it (or is replacing it).
        if (generation !== this.connectionGeneration || this.recoveringGeneration === generation) return;
        this.recoveringGeneration = generation;
        this.logger.warn(
          `The RabbitMQ ${channelName} channel was closed while the connection stayed up; reconnecting to reopen it`,
        );
        this.manager.reconnect();
      },
      this.channelRecoveryMs,
    );
    timer.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  private async setUpPublisher(channel: ConfirmChannel): Promise<void> {
    // Listeners first: if declaring fails, the broker closes the channel and recovery must notice.
    // Without an 'error' listener amqplib would turn a channel error into a lost connection.
    channel.on('error', (err: Error) => {
      // Until the recovery reconnect reopens it, publishes fail at once with this reason.
      this.publisherFault = `RabbitMQ closed the publishing channel: ${err.message}`;
      this.logger.warn(this.publisherFault);
    });
    channel.once('close', () => {
      this.closedChannels.add(channel);
      if (this.publishChannel === channel) this.publishChannel = undefined;
      this.wakeWaiters();
      this.scheduleChannelRecovery('publishing', () => this.publishChannel === undefined);
    });
    channel.on('return', (returned: Message) => {
      const pending = this.unconfirmed.get(String(returned.properties.messageId));
      if (pending) pending.returned = true;
      this.redeclareTopology(channel);
    });
    await declareJobTopology(channel);
    if (this.closedChannels.has(channel)) return;
    this.publishChannel = channel;
    this.publisherFault = null;
    this.wakeWaiters();
  }

  /**
   * An unroutable job means the queue or its bindings vanished (deleted by hand, definitions reset)
   * while the connection stayed up: declare them again so later publishes land. Not at once: RabbitMQ
   * tells consumers of a deleted quorum queue some tens of milliseconds later, and a queue of the
   * same name recreated before that leaves those consumers attached to nothing (seen on 3.10).
   */
  private redeclareTopology(channel: ConfirmChannel): void {
    if (this.redeclaring || this.closedChannels.has(channel)) return;
    this.logger.warn(`A job came back unroutable from ${Topology.jobsExchange}; declaring the job topology again`);
    this.redeclaring = sleep(this.channelRecoveryMs)
      .then(() => (this.closedChannels.has(channel) ? undefined : declareJobTopology(channel)))
      .catch((err: unknown) => this.logger.warn(`Could not declare the job topology: ${errorMessage(err)}`))
      .finally(() => (this.redeclaring = undefined));
  }

  /**
   * The usable confirm channel, waiting (never past the deadline) only while a first connection or a
   * channel setup is still in progress. A broker known to be down fails at once.
   */
  private async publishChannelBefore(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      if (this.closed) throw new QueueUnavailableError('the job queue is closed');
      if (this.blockedReason !== null) {
        throw new QueueUnavailableError(`RabbitMQ is refusing publishes (resource alarm: ${this.blockedReason})`);
      }
      if (this.publishChannel) return this.publishChannel;
      if (this.unavailableReason !== null) throw new QueueUnavailableError(this.unavailableReason);
      if (this.publisherFault !== null) throw new QueueUnavailableError(this.publisherFault);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new QueueUnavailableError(
          `no RabbitMQ channel at ${this.brokerLabel} within ${this.options.publishTimeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.stateWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.stateWaiters.add(wake);
      });
    }
  }

  private publishAndConfirm(channel: ConfirmChannel, message: JobMessage, deadline: number): Promise<void> {
    const { jobId } = message;
    const inventory = inventoryOf(message.spec);
    const headers: Record<string, string> = {
      [JobHeaders.kind]: message.spec.kind,
      [JobHeaders.user]: message.submittedBy,
    };
    if (inventory !== null) headers[JobHeaders.inventory] = inventory;
    const properties: Options.Publish = {
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
    const body = Buffer.from(JSON.stringify(message));

    return new Promise<void>((resolve, reject) => {
      const pending = { returned: false };
      let settled = false;
      const finish = (error?: QueueUnavailableError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.unconfirmed.get(jobId) === pending) this.unconfirmed.delete(jobId);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          finish(
            new QueueUnavailableError(
              `RabbitMQ did not confirm job ${jobId} within ${this.options.publishTimeoutMs} ms`,
            ),
          ),
        Math.max(0, deadline - Date.now()),
      );
      this.unconfirmed.set(jobId, pending);
      try {
        channel.publish(Topology.jobsExchange, jobRoutingKey(message.spec.kind), body, properties, (err) => {
          if (err) {
            finish(new QueueUnavailableError(`RabbitMQ did not accept job ${jobId}: ${errorMessage(err)}`));
          } else if (pending.returned) {
            finish(
              new QueueUnavailableError(
                `RabbitMQ could not route job ${jobId}: no queue bound to ${Topology.jobsExchange} for ${jobRoutingKey(message.spec.kind)}`,
              ),
            );
          } else {
            finish();
          }
        });
      } catch (err) {
        // amqplib throws synchronously when the channel has just closed.
        finish(new QueueUnavailableError(`RabbitMQ channel unusable: ${errorMessage(err)}`));
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Consuming

  private async setUpConsumer(channel: Channel, handler: JobHandler, concurrency: number): Promise<void> {
    channel.on('error', (err: Error) => this.logger.warn(`RabbitMQ closed the consumer channel: ${err.message}`));
    channel.once('close', () => {
      this.closedChannels.add(channel);
      if (this.consumer?.channel !== channel) return;
      this.consumer = undefined;
      this.scheduleChannelRecovery('consumer', () => this.consumer === undefined);
    });
    await declareJobTopology(channel);
    if (this.closed) return;
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
        void this.handleDelivery(channel, delivery, handler);
      },
      { noAck: false },
    );
    this.consumer = { channel, consumerTag };
    this.logger.log(`Consuming ${Topology.jobsQueue} with prefetch ${concurrency}`);
  }

  private async handleDelivery(channel: Channel, delivery: ConsumeMessage, handler: JobHandler): Promise<void> {
    const message = parseJobMessage(delivery.content);
    if (!message) {
      this.logger.error(
        `Dead-lettering an unreadable message (messageId ${String(delivery.properties.messageId ?? 'none')}, ` +
          `routing key ${delivery.fields.routingKey}): the body is not a valid job message`,
      );
      this.settle(channel, delivery, 'dead-letter');
      return;
    }
    try {
      await handler(message, { redelivered: delivery.fields.redelivered });
    } catch (err) {
      const deliveryCount = Number(delivery.properties.headers?.['x-delivery-count'] ?? 0) + 1;
      this.logger.warn(
        `Job ${message.jobId} failed on delivery ${deliveryCount} of ${Topology.deliveryLimit + 1}; ` +
          `returning it to ${Topology.jobsQueue}: ${errorMessage(err)}`,
      );
      this.settle(channel, delivery, 'requeue');
      return;
    }
    this.settle(channel, delivery, 'ack');
  }

  /** Settles on the channel the delivery arrived on; if that channel is gone the broker redelivers. */
  private settle(channel: Channel, delivery: ConsumeMessage, outcome: 'ack' | 'requeue' | 'dead-letter'): void {
    if (this.closedChannels.has(channel)) {
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

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.publishChannel = undefined;
    this.wakeWaiters();
    const timeoutMs = this.options.closeTimeoutMs ?? 2000;

    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer && !this.closedChannels.has(consumer.channel)) {
      await withTimeout(
        consumer.channel.cancel(consumer.consumerTag).catch(() => undefined),
        timeoutMs,
      );
    }
    // amqp-connection-manager's close() stops the retries at once but then waits for a connection
    // attempt in progress (and closes it if it succeeds). Without a connection there is nothing to
    // wait for; with one, the broker gets closeTimeoutMs to answer.
    const wasConnected = this.manager.isConnected();
    const closingConnection = this.manager.close().catch((err: unknown) => {
      this.logger.debug(`Closing the RabbitMQ connection: ${errorMessage(err)}`);
    });
    if (wasConnected && !(await withTimeout(closingConnection, timeoutMs))) {
      this.logger.warn(`RabbitMQ did not answer within ${timeoutMs} ms while closing; giving up on it`);
    }
    this.manager.removeAllListeners();
    this.publisher.removeAllListeners();
    this.consumerWrapper?.removeAllListeners();
    this.logger.log(`Closed the RabbitMQ connection ${this.options.connectionName}`);
  }
}

function parseJobMessage(content: Buffer): JobMessage | null {
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    return isJobMessage(value) ? value : null;
  } catch {
    return null;
  }
}
