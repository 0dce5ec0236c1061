import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { AmqpConnectionManager, ChannelWrapper, connect } from 'amqp-connection-manager';
import { JobNotice, Topology, jobNoticeRoutingKey } from '@flansible/contracts';
import { CancelRequest, JobNoticeBus } from './job-notice-bus';
import { QueueUnavailableError } from './job-queue';
import { describeBroker, errorMessage, withTimeout } from './amqp-helpers';
import { declareNoticeTopology } from './rabbitmq-topology';

export interface RabbitMqJobNoticeBusOptions {
  /** amqp:// or amqps:// URL, vhost included. Never logged with its credentials. */
  url: string;
  /** Shown in the management UI's connection list, e.g. `flansible-gateway-notices@host:1234`. */
  connectionName: string;
  /** Upper bound for requestCancel(): waiting for a usable channel plus the broker's confirm. */
  requestTimeoutMs: number;
  /** `appId` stamped on published notices and cancel requests. Default `flansible`. */
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

interface ListenerEntry {
  listener: (notice: JobNotice) => void;
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
  private readonly manager: AmqpConnectionManager;
  private readonly wrappers: ChannelWrapper[] = [];
  private noticeWrapper?: ChannelWrapper;
  private cancelWrapper?: ChannelWrapper;

  /** Set once the exchanges are declared; absent while (re)connecting. */
  private publishChannel?: ConfirmChannel;
  /** The socket's write buffer is full: notices are dropped until the channel drains. */
  private publisherBackedUp = false;
  private noticeSubscription?: Subscription;
  private cancelSubscription?: Subscription;
  private readonly closedChannels = new WeakSet<Channel>();

  /** Listeners by job id; a job is bound on the broker exactly while it has an entry here. */
  private readonly listeners = new Map<string, Set<ListenerEntry>>();
  private readonly cancelHandlers = new Set<(request: CancelRequest) => void>();
  /** Cancel requests awaiting their confirm; failed at once by close(). */
  private readonly pendingRequests = new Set<(error: QueueUnavailableError) => void>();

  private connectionGeneration = 0;
  private recoveringGeneration = -1;
  /** Why the broker cannot be used right now; null while connected or still on the first attempt. */
  private unavailableReason: string | null = null;
  private lastLoggedFailure: string | null = null;
  private blockedReason: string | null = null;
  /** Woken whenever the state above changes (requestCancel / onCancel waiting for a channel). */
  private readonly stateWaiters = new Set<() => void>();
  private droppedNotices = 0;

  private closed = false;
  private closing?: Promise<void>;
  private readonly brokerLabel: string;
  private readonly channelRecoveryMs: number;
  private readonly noticeProperties: Options.Publish;

  constructor(private readonly options: RabbitMqJobNoticeBusOptions) {
    super();
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be a positive number, got ${options.requestTimeoutMs}`);
    }
    this.brokerLabel = describeBroker(options.url);
    this.channelRecoveryMs = (options.channelRecoverySeconds ?? 5) * 1000;
    this.noticeProperties = {
      persistent: false,
      contentType: 'application/json',
      appId: options.appId ?? 'flansible',
    };

    this.manager = connect(options.url, {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 10,
      reconnectTimeInSeconds: options.reconnectSeconds ?? 1,
      connectionOptions: {
        timeout: options.connectTimeoutMs ?? 5000,
        clientProperties: { connection_name: options.connectionName },
      },
    });
    this.watchConnection();
    this.openChannel('publishing', true, (channel) => this.setUpPublisher(channel as ConfirmChannel));
  }

  notify(notice: JobNotice): void {
    const channel = this.publishChannel;
    if (this.closed || !channel || this.publisherBackedUp || this.blockedReason !== null) {
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
    if (this.closed) {
      this.logger.warn(`Not listening for notices of job ${jobId}: the notice bus is closed`);
      return () => undefined;
    }
    // An entry object per call: the same function listening twice is two listeners.
    const entry: ListenerEntry = { listener };
    let entries = this.listeners.get(jobId);
    if (!entries) {
      entries = new Set();
      this.listeners.set(jobId, entries);
      this.changeBinding(jobId, 'bind');
    }
    entries.add(entry);
    this.noticeWrapper ??= this.openChannel('notice listener', false, (channel) => this.setUpNoticeQueue(channel));

    const owned = entries;
    let listening = true;
    return () => {
      if (!listening) return;
      listening = false;
      owned.delete(entry);
      if (owned.size === 0 && this.listeners.get(jobId) === owned) {
        this.listeners.delete(jobId);
        if (!this.closed) this.changeBinding(jobId, 'unbind');
      }
    };
  }

  async requestCancel(request: CancelRequest): Promise<void> {
    const deadline = Date.now() + this.options.requestTimeoutMs;
    const channel = await this.publishChannelBefore(deadline);
    await this.publishConfirmed(channel, request, deadline);
  }

  /**
   * Subscribes this process to cancel requests. Resolves once the subscription is live, or at once
   * if the broker is unreachable (it is made when the broker comes back; requests sent meanwhile are
   * not seen). Never later than requestTimeoutMs.
   */
  async onCancel(handler: (request: CancelRequest) => void): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the notice bus is closed');
    this.cancelHandlers.add(handler);
    this.cancelWrapper ??= this.openChannel('cancel listener', false, (channel) => this.setUpCancelQueue(channel));
    await this.waitUntil(() => this.cancelSubscription !== undefined, Date.now() + this.options.requestTimeoutMs);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------
  // Connection and channel state

  private watchConnection(): void {
    this.manager.on('connect', () => {
      this.connectionGeneration++;
      this.unavailableReason = null;
      this.lastLoggedFailure = null;
      this.blockedReason = null;
      this.logger.log(`Connected to RabbitMQ at ${this.brokerLabel} as ${this.options.connectionName}`);
      if (this.droppedNotices > 0) {
        this.logger.warn(`Dropped ${this.droppedNotices} job notice(s) while RabbitMQ was unavailable`);
        this.droppedNotices = 0;
      }
      this.wakeWaiters();
    });
    this.manager.on('disconnect', ({ err }: { err?: Error }) => {
      const reason = err?.message ?? 'connection closed';
      this.unavailableReason = `lost the connection to RabbitMQ at ${this.brokerLabel}: ${reason}`;
      this.publishChannel = undefined;
      this.noticeSubscription = undefined;
      this.cancelSubscription = undefined;
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
      this.wakeWaiters();
    });
  }

  private openChannel(name: string, confirm: boolean, setup: (channel: Channel) => Promise<void>): ChannelWrapper {
    const wrapper = this.manager.createChannel({ name, confirm, setup });
    wrapper.on('error', (err: Error) => this.logger.error(`Could not set up the RabbitMQ ${name} channel: ${err.message}`));
    this.wrappers.push(wrapper);
    return wrapper;
  }

  /**
   * Listeners every setup function attaches first (if declaring fails, the broker closes the channel
   * and recovery must notice). Without an 'error' listener amqplib would turn a channel error into a
   * lost connection.
   */
  private watchChannel(channel: Channel, name: string, forget: () => void, stillLost: () => boolean): void {
    channel.on('error', (err: Error) => this.logger.warn(`RabbitMQ closed the ${name} channel: ${err.message}`));
    channel.once('close', () => {
      this.closedChannels.add(channel);
      forget();
      this.wakeWaiters();
      this.scheduleChannelRecovery(name, stillLost);
    });
  }

  /**
   * After a channel closed while its connection stayed up, force a reconnect so the setup functions
   * run again; amqp-connection-manager would otherwise leave the channel closed until the next
   * connection loss.
   */
  private scheduleChannelRecovery(channelName: string, stillLost: () => boolean): void {
    if (this.closed) return;
    const generation = this.connectionGeneration;
    const timer = setTimeout(() => {
      if (this.closed || !stillLost() || !this.manager.isConnected()) return;
      // A reconnect since the channel closed has already replaced it (or is replacing it).
      if (generation !== this.connectionGeneration || this.recoveringGeneration === generation) return;
      this.recoveringGeneration = generation;
      this.logger.warn(`The RabbitMQ ${channelName} channel was closed while the connection stayed up; reconnecting`);
      this.manager.reconnect();
    }, this.channelRecoveryMs);
    timer.unref();
  }

  private wakeWaiters(): void {
    for (const wake of [...this.stateWaiters]) wake();
  }

  /** Waits (never past the deadline) until `done()`, the broker is known to be down, or close(). */
  private async waitUntil(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && !this.closed && this.unavailableReason === null) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return;
      await this.nextStateChange(remaining);
    }
  }

  private nextStateChange(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.stateWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.stateWaiters.add(wake);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  private async setUpPublisher(channel: ConfirmChannel): Promise<void> {
    this.watchChannel(
      channel,
      'publishing',
      () => {
        if (this.publishChannel === channel) this.publishChannel = undefined;
      },
      () => this.publishChannel === undefined,
    );
    await declareNoticeTopology(channel);
    if (this.closed || this.closedChannels.has(channel)) return;
    this.publishChannel = channel;
    this.publisherBackedUp = false;
    this.wakeWaiters();
  }

  /**
   * The usable confirm channel, waiting (never past the deadline) only while a first connection or a
   * channel setup is still in progress. A broker known to be down fails at once.
   */
  private async publishChannelBefore(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      if (this.closed) throw new QueueUnavailableError('the notice bus is closed');
      if (this.blockedReason !== null) {
        throw new QueueUnavailableError(`RabbitMQ is refusing publishes (resource alarm: ${this.blockedReason})`);
      }
      if (this.publishChannel) return this.publishChannel;
      if (this.unavailableReason !== null) throw new QueueUnavailableError(this.unavailableReason);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new QueueUnavailableError(
          `no RabbitMQ channel at ${this.brokerLabel} within ${this.options.requestTimeoutMs} ms`,
        );
      }
      await this.nextStateChange(remaining);
    }
  }

  private publishConfirmed(channel: ConfirmChannel, request: CancelRequest, deadline: number): Promise<void> {
    const body = Buffer.from(JSON.stringify({ jobId: request.jobId, reason: request.reason }));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: QueueUnavailableError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pendingRequests.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          finish(
            new QueueUnavailableError(
              `RabbitMQ did not confirm the cancel request for job ${request.jobId} within ${this.options.requestTimeoutMs} ms`,
            ),
          ),
        Math.max(0, deadline - Date.now()),
      );
      this.pendingRequests.add(finish);
      try {
        channel.publish(Topology.controlExchange, '', body, this.noticeProperties, (err) => {
          finish(
            err
              ? new QueueUnavailableError(
                  `RabbitMQ did not accept the cancel request for job ${request.jobId}: ${errorMessage(err)}`,
                )
              : undefined,
          );
        });
      } catch (err) {
        finish(new QueueUnavailableError(`RabbitMQ channel unusable: ${errorMessage(err)}`));
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Listening

  private async setUpNoticeQueue(channel: Channel): Promise<void> {
    this.watchChannel(
      channel,
      'notice listener',
      () => {
        if (this.noticeSubscription?.channel === channel) this.noticeSubscription = undefined;
      },
      () => this.noticeSubscription === undefined,
    );
    await declareNoticeTopology(channel);
    // A fresh name per connection: the broker may not yet have noticed that the last one died.
    const queue = processQueueName(Topology.noticesExchange);
    await channel.assertQueue(queue, {
      exclusive: true,
      autoDelete: true,
      durable: false,
      maxLength: NOTICE_QUEUE_MAX_LENGTH,
    });
    if (this.closed || this.closedChannels.has(channel)) return;
    // From here on listen() binds and unbinds on this channel itself. The bindings for the jobs
    // listened to so far are issued in one go, so none of its calls can slip in between.
    this.noticeSubscription = { channel, queue };
    await Promise.all(
      [...this.listeners.keys()].map((jobId) =>
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
    if (!subscription || this.closedChannels.has(subscription.channel)) return;
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
    const entries = this.listeners.get(notice.jobId);
    if (!entries) return; // the last listener left while this notice was on its way
    for (const entry of [...entries]) {
      if (!entries.has(entry)) continue; // unsubscribed by an earlier listener of this same notice
      try {
        entry.listener({ ...notice });
      } catch (err) {
        this.logger.error(`A listener for job ${notice.jobId} threw: ${errorMessage(err)}`);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Cancel requests

  private async setUpCancelQueue(channel: Channel): Promise<void> {
    this.watchChannel(
      channel,
      'cancel listener',
      () => {
        if (this.cancelSubscription?.channel === channel) this.cancelSubscription = undefined;
      },
      () => this.cancelSubscription === undefined,
    );
    await declareNoticeTopology(channel);
    const queue = processQueueName(Topology.controlExchange);
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, Topology.controlExchange, '');
    await channel.consume(queue, (message) => this.onCancelMessage(channel, message), {
      noAck: true,
      exclusive: true,
    });
    if (this.closed || this.closedChannels.has(channel)) return;
    this.cancelSubscription = { channel, queue };
    this.logger.log(`Listening for cancel requests on ${queue}`);
    this.wakeWaiters();
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
    for (const handler of [...this.cancelHandlers]) {
      try {
        handler({ ...request });
      } catch (err) {
        this.logger.error(`A cancel handler threw for job ${request.jobId}: ${errorMessage(err)}`);
      }
    }
  }

  /** The broker dropped our consumer (queue deleted by hand...): closing the channel lets recovery rebuild it. */
  private consumerCancelled(channel: Channel, what: string): void {
    this.logger.warn(`RabbitMQ cancelled the ${what} consumer; restarting it`);
    channel.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // Shutdown

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.publishChannel = undefined;
    this.noticeSubscription = undefined;
    this.cancelSubscription = undefined;
    this.listeners.clear();
    this.cancelHandlers.clear();
    for (const fail of [...this.pendingRequests]) fail(new QueueUnavailableError('the notice bus is closed'));
    this.wakeWaiters();
    const timeoutMs = this.options.closeTimeoutMs ?? 2000;

    // As in RabbitMqJobQueue: close() waits for a connection attempt in progress, so only wait (and
    // never past the timeout) when there is a connection to close. The exclusive queues go with it.
    const wasConnected = this.manager.isConnected();
    const closingConnection = this.manager.close().catch((err: unknown) => {
      this.logger.debug(`Closing the RabbitMQ connection: ${errorMessage(err)}`);
    });
    if (wasConnected && !(await withTimeout(closingConnection, timeoutMs))) {
      this.logger.warn(`RabbitMQ did not answer within ${timeoutMs} ms while closing; giving up on it`);
    }
    this.manager.removeAllListeners();
    for (const wrapper of this.wrappers) wrapper.removeAllListeners();
    this.logger.log(`Closed the RabbitMQ connection ${this.options.connectionName}`);
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
