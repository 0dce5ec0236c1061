import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { ChannelWrapper } from 'amqp-connection-manager';
import { JobNotice, Topology, jobNoticeRoutingKey } from '@flansible/contracts';
import { CancelRequest, JobNoticeBus } from './job-notice-bus';
import { QueueUnavailableError } from './job-queue';
import { errorMessage, publishConfirmed } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { JobNoticeListeners, tellCancelHandlers } from './job-notice-listeners';
import { declareNoticeTopology } from './rabbitmq-topology';

export interface RabbitMqJobNoticeBusOptions extends BrokerConnectionOptions {
  /** Shown in the management UI's connection list, e.g. `flansible-gateway-notices@host:1234`. */
  connectionName: string;
  /** Upper bound for requestCancel(): waiting for a usable channel plus the broker's confirm. */
  requestTimeoutMs: number;
  /** `appId` stamped on published notices and cancel requests. Default `flansible`. */
  appId?: string;
  /**
   * A channel the broker closed while the connection stayed up (exchange deleted under it, consumer
   * cancelled...) is only reopened on the next reconnect; after this delay we force one. Default 5.
   */
  channelRecoverySeconds?: number;
}

/** Notices a slow listening process may fall behind by before the broker drops the oldest ones. */
const NOTICE_QUEUE_MAX_LENGTH = 10_000;
const NOTICE_KINDS: ReadonlySet<JobNotice['what']> = new Set<JobNotice['what']>(['output', 'events', 'status']);

/** The process's queue on one of the signal exchanges while its channel is up. */
interface Subscription {
  channel: Channel;
  queue: string;
}

/**
 * The notice bus over RabbitMQ (distributed deployment): live notices on the `flansible.notices`
 * topic exchange, cancel requests on the `flansible.control` fanout. A connection of its own, so
 * notice traffic never sits in front of job publishes and their confirms.
 *
 * Channels, each (re)built by a setup function on every (re)connect:
 * - a confirm channel for publishing, opened at once (it declares both exchanges);
 * - after the first listen(), one exclusive, auto-delete queue for this process, bound per job
 *   (routing key `job.<id>`) while that job has listeners, consumed without acks;
 * - after the first onCancel(), one exclusive, auto-delete queue bound to the control fanout.
 *
 * Like RabbitMqJobQueue, it publishes on the raw channel captured in the setup function, never
 * through ChannelWrapper.publish(), which would buffer every message while disconnected: notices
 * are dropped instead (the store is the truth), and a cancel request fails at once.
 */
export class RabbitMqJobNoticeBus extends JobNoticeBus {
  private readonly logger = new Logger(RabbitMqJobNoticeBus.name);
  private readonly connection: BrokerConnection;
  private noticeWrapper?: ChannelWrapper;
  private cancelWrapper?: ChannelWrapper;

  /** Set once the exchanges are declared; absent while (re)connecting. */
  private publishChannel?: ConfirmChannel;
  /** The socket's write buffer is full: notices are dropped until the channel drains. */
  private publisherBackedUp = false;
  private noticeSubscription?: Subscription;
  private cancelSubscription?: Subscription;

  /** A job is bound on the broker exactly while it has listeners here. */
  private readonly listeners = new JobNoticeListeners(this.logger, {
    onFirstListener: (jobId) => this.changeBinding(jobId, 'bind'),
    onLastListenerGone: (jobId) => {
      if (!this.connection.isClosed) this.changeBinding(jobId, 'unbind');
    },
  });
  private readonly cancelHandlers = new Set<(request: CancelRequest) => void>();
  /** Cancel requests awaiting their confirm; failed at once by close(). */
  private readonly pendingRequests = new Set<(error: QueueUnavailableError) => void>();
  private droppedNotices = 0;
  private readonly noticeProperties: Options.Publish;

  constructor(private readonly options: RabbitMqJobNoticeBusOptions) {
    super();
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be a positive number, got ${options.requestTimeoutMs}`);
    }
    this.noticeProperties = {
      persistent: false,
      contentType: 'application/json',
      appId: options.appId ?? 'flansible',
    };
    this.connection = new BrokerConnection(options, {
      logger: this.logger,
      closedReason: 'the notice bus is closed',
      onConnect: () => {
        if (this.droppedNotices > 0) {
          this.logger.warn(`Dropped ${this.droppedNotices} job notice(s) while RabbitMQ was unavailable`);
          this.droppedNotices = 0;
        }
      },
      onDisconnect: () => {
        this.publishChannel = undefined;
        this.noticeSubscription = undefined;
        this.cancelSubscription = undefined;
      },
    });
    this.connection.openChannel('publishing', true, (channel) => this.setUpPublisher(channel as ConfirmChannel));
  }

  notify(notice: JobNotice): void {
    const channel = this.publishChannel;
    if (this.connection.isClosed || !channel || this.publisherBackedUp || this.connection.blockedReason !== null) {
      this.droppedNotices++;
      return;
    }
    const body = Buffer.from(JSON.stringify({ jobId: notice.jobId, what: notice.what }));
    try {
      const hasRoom = channel.publish(
        Topology.noticesExchange,
        jobNoticeRoutingKey(notice.jobId),
        body,
        this.noticeProperties,
      );
      if (!hasRoom) {
        // amqplib took this one but its buffer is past the high-water mark: drop until it drains.
        this.publisherBackedUp = true;
        channel.once('drain', () => {
          if (this.publishChannel === channel) this.publisherBackedUp = false;
        });
      }
    } catch (err) {
      // amqplib throws synchronously when the channel has just closed.
      this.droppedNotices++;
      this.logger.debug(`Dropped a notice for job ${notice.jobId}: ${errorMessage(err)}`);
    }
  }

  listen(jobId: string, listener: (notice: JobNotice) => void): () => void {
    if (this.connection.isClosed) {
      this.logger.warn(`Not listening for notices of job ${jobId}: the notice bus is closed`);
      return () => undefined;
    }
    const stopListening = this.listeners.add(jobId, listener);
    this.noticeWrapper ??= this.connection.openChannel('notice listener', false, (channel) =>
      this.setUpNoticeQueue(channel),
    );
    return stopListening;
  }

  async requestCancel(request: CancelRequest): Promise<void> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    const channel = await this.connection.channelBefore({
      current: () => this.publishChannel,
      deadline,
      timeoutMs: this.options.requestTimeoutMs,
    });
    await this.publishCancelRequest(channel, request, deadline);
  }

  /**
   * Subscribes this process to cancel requests. Resolves once the subscription is live, or at once
   * if the broker is unreachable (it is made when the broker comes back; requests sent meanwhile are
   * not seen). Never later than requestTimeoutMs.
   */
  async onCancel(handler: (request: CancelRequest) => void): Promise<void> {
    this.connection.throwIfClosed();
    this.cancelHandlers.add(handler);
    this.cancelWrapper ??= this.connection.openChannel('cancel listener', false, (channel) =>
      this.setUpCancelQueue(channel),
    );
    await this.connection.waitUntil(
      () => this.cancelSubscription !== undefined,
      Date.now() + this.options.requestTimeoutMs,
    );
  }

  close(): Promise<void> {
    return this.connection.close(() => this.forgetEverything());
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  private async setUpPublisher(channel: ConfirmChannel): Promise<void> {
    this.connection.watchChannel(channel, 'publishing', {
      current: () => this.publishChannel,
      clear: () => (this.publishChannel = undefined),
    });
    await declareNoticeTopology(channel);
    if (this.connection.isClosed || this.connection.hasClosed(channel)) return;
    this.publishChannel = channel;
    this.publisherBackedUp = false;
    this.connection.notifyStateChanged();
  }

  private async publishCancelRequest(channel: ConfirmChannel, request: CancelRequest, deadline: number): Promise<void> {
    const content = Buffer.from(JSON.stringify({ jobId: request.jobId, reason: request.reason }));
    const publishing = publishConfirmed(
      channel,
      { exchange: Topology.controlExchange, routingKey: '', content, options: this.noticeProperties },
      {
        subject: `the cancel request for job ${request.jobId}`,
        deadline,
        timeoutMs: this.options.requestTimeoutMs,
      },
    );
    this.pendingRequests.add(publishing.fail);
    try {
      await publishing.confirmed;
    } finally {
      this.pendingRequests.delete(publishing.fail);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Listening

  private async setUpNoticeQueue(channel: Channel): Promise<void> {
    this.connection.watchChannel(channel, 'notice listener', {
      current: () => this.noticeSubscription?.channel,
      clear: () => (this.noticeSubscription = undefined),
    });
    await declareNoticeTopology(channel);
    // A fresh name per connection: the broker may not yet have noticed that the last one died.
    const queue = processQueueName(Topology.noticesExchange);
    await channel.assertQueue(queue, {
      exclusive: true,
      autoDelete: true,
      durable: false,
      maxLength: NOTICE_QUEUE_MAX_LENGTH,
    });
    if (this.connection.isClosed || this.connection.hasClosed(channel)) return;
    // From here on listen() binds and unbinds on this channel itself. The bindings for the jobs
    // listened to so far are issued in one go, so none of its calls can slip in between.
    this.noticeSubscription = { channel, queue };
    await Promise.all(
      this.listeners.jobIds().map((jobId) =>
        channel.bindQueue(queue, Topology.noticesExchange, jobNoticeRoutingKey(jobId)),
      ),
    );
    await channel.consume(queue, (message) => this.onNoticeMessage(channel, message), {
      noAck: true,
      exclusive: true,
    });
    this.logger.log(`Listening for job notices on ${queue}`);
  }

  private changeBinding(jobId: string, change: 'bind' | 'unbind'): void {
    const subscription = this.noticeSubscription;
    // Not set up yet (or reconnecting): the setup function binds every job that has listeners then.
    if (!subscription || this.connection.hasClosed(subscription.channel)) return;
    const { channel, queue } = subscription;
    const key = jobNoticeRoutingKey(jobId);
    const report = (err: unknown): void =>
      // The channel is closing or closed; the next setup binds from `listeners` again.
      this.logger.debug(`Could not ${change} ${key} on ${queue}: ${errorMessage(err)}`);
    try {
      const done =
        change === 'bind'
          ? channel.bindQueue(queue, Topology.noticesExchange, key)
          : channel.unbindQueue(queue, Topology.noticesExchange, key);
      done.catch(report);
    } catch (err) {
      report(err);
    }
  }

  private onNoticeMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      this.consumerCancelled(channel, 'notice');
      return;
    }
    const notice = parseNotice(message.content);
    if (!notice) {
      this.logger.warn(`Ignoring an unreadable notice (routing key ${message.fields.routingKey})`);
      return;
    }
    this.listeners.deliver(notice);
  }

  // ---------------------------------------------------------------------------------------------
  // Cancel requests

  private async setUpCancelQueue(channel: Channel): Promise<void> {
    this.connection.watchChannel(channel, 'cancel listener', {
      current: () => this.cancelSubscription?.channel,
      clear: () => (this.cancelSubscription = undefined),
    });
    await declareNoticeTopology(channel);
    const queue = processQueueName(Topology.controlExchange);
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, Topology.controlExchange, '');
    await channel.consume(queue, (message) => this.onCancelMessage(channel, message), {
      noAck: true,
      exclusive: true,
    });
    if (this.connection.isClosed || this.connection.hasClosed(channel)) return;
    this.cancelSubscription = { channel, queue };
    this.logger.log(`Listening for cancel requests on ${queue}`);
    this.connection.notifyStateChanged();
  }

  private onCancelMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      this.consumerCancelled(channel, 'cancel request');
      return;
    }
    const request = parseCancelRequest(message.content);
    if (!request) {
      this.logger.warn('Ignoring an unreadable cancel request');
      return;
    }
    tellCancelHandlers(this.cancelHandlers, request, this.logger);
  }

  /** The broker dropped our consumer (queue deleted by hand...): closing the channel lets recovery rebuild it. */
  private consumerCancelled(channel: Channel, what: string): void {
    this.logger.warn(`RabbitMQ cancelled the ${what} consumer; restarting it`);
    channel.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  /** The first step of close(): the exclusive queues and their bindings go with the connection. */
  private forgetEverything(): void {
    this.publishChannel = undefined;
    this.noticeSubscription = undefined;
    this.cancelSubscription = undefined;
    this.listeners.clear();
    this.cancelHandlers.clear();
    for (const fail of [...this.pendingRequests]) fail(new QueueUnavailableError('the notice bus is closed'));
  }
}

/** `<exchange>.<host>.<pid>.<random>`: readable in the management UI, unique per connection. */
function processQueueName(exchange: string): string {
  return `${exchange}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

function parseJson(content: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function parseNotice(content: Buffer): JobNotice | null {
  const value = parseJson(content);
  if (!value || typeof value.jobId !== 'string' || typeof value.what !== 'string') return null;
  const what = value.what as JobNotice['what'];
  return NOTICE_KINDS.has(what) ? { jobId: value.jobId, what } : null;
}

function parseCancelRequest(content: Buffer): CancelRequest | null {
  const value = parseJson(content);
  if (!value || typeof value.jobId !== 'string' || typeof value.reason !== 'string') return null;
  return { jobId: value.jobId, reason: value.reason };
}
