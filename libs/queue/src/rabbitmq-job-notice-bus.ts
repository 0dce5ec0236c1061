import { Logger } from '@nestjs/common';
import { Channel, ConsumeMessage, Options } from 'amqplib';
import { JobNotice, Topology, jobNoticeRoutingKey } from '@flansible/contracts';
import { JobNoticeBus } from './job-notice-bus';
import { errorMessage, parseJsonObject, processQueueName, restartCancelledConsumer } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { JobNoticeListeners } from './job-notice-listeners';
import { ManagedChannel } from './managed-channel';
import { declareNoticeTopology } from './rabbitmq-topology';

export interface RabbitMqJobNoticeBusOptions extends BrokerConnectionOptions {
  /** Shown in the management UI's connection list, e.g. `flansible-gateway-notices@host:1234`. */
  connectionName: string;
  /** `appId` stamped on published notices. Default `flansible`. */
  appId?: string;
}

/** Notices a slow listening process may fall behind by before the broker drops the oldest ones. */
const NOTICE_QUEUE_MAX_LENGTH = 10_000;
const NOTICE_KINDS: ReadonlySet<JobNotice['what']> = new Set<JobNotice['what']>(['output', 'events', 'status']);

/** The process's queue on the notice exchange, on the channel it was declared on. */
interface Subscription {
  channel: Channel;
  queue: string;
}

/**
 * The notice bus over RabbitMQ (distributed deployment): live notices on the `flansible.notices`
 * topic exchange. A connection of its own, so notice traffic never sits in front of job publishes
 * and their confirms.
 *
 * Two managed channels: one for publishing, opened at once (it declares the exchange), and after
 * the first listen() one with an exclusive, auto-delete queue for this process, bound per job
 * (routing key `job.<id>`) while that job has listeners, consumed without acks.
 *
 * It publishes on the raw channel, never through ChannelWrapper.publish(), which would buffer every
 * message while disconnected: notices are dropped instead (the store is the truth).
 */
export class RabbitMqJobNoticeBus extends JobNoticeBus {
  private readonly logger = new Logger(RabbitMqJobNoticeBus.name);
  private readonly connection: BrokerConnection;
  private readonly publisher: ManagedChannel;
  private listenerChannel?: ManagedChannel;
  /** The socket's write buffer is full: notices are dropped until the channel drains. */
  private publisherBackedUp = false;
  /** Set during the listener channel's setup, as soon as listen() may bind on it. */
  private subscription?: Subscription;

  /** A job is bound on the broker exactly while it has listeners here. */
  private readonly listeners = new JobNoticeListeners(this.logger, {
    onFirstListener: (jobId) => this.changeBinding(jobId, 'bind'),
    onLastListenerGone: (jobId) => {
      if (!this.connection.isClosed) this.changeBinding(jobId, 'unbind');
    },
  });
  private droppedNotices = 0;
  private readonly noticeProperties: Options.Publish;

  constructor(options: RabbitMqJobNoticeBusOptions) {
    super();
    this.noticeProperties = { persistent: false, contentType: 'application/json', appId: options.appId ?? 'flansible' };
    this.connection = new BrokerConnection(options, {
      logger: this.logger,
      closedReason: 'the notice bus is closed',
      onConnect: () => {
        if (this.droppedNotices > 0) {
          this.logger.warn(`Dropped ${this.droppedNotices} job notice(s) while RabbitMQ was unavailable`);
          this.droppedNotices = 0;
        }
      },
    });
    this.publisher = this.connection.channel('notice publishing', {
      setup: async (channel) => {
        await declareNoticeTopology(channel);
        this.publisherBackedUp = false;
      },
    });
  }

  notify(notice: JobNotice): void {
    const channel = this.publisher.current;
    if (!channel || !this.canNotify) {
      this.droppedNotices++;
      return;
    }
    const body = Buffer.from(JSON.stringify({ jobId: notice.jobId, what: notice.what }));
    try {
      const hasRoom = channel.publish(Topology.noticesExchange, jobNoticeRoutingKey(notice.jobId), body, this.noticeProperties);
      if (!hasRoom) {
        // amqplib took this one but its buffer is past the high-water mark: drop until it drains.
        this.publisherBackedUp = true;
        channel.once('drain', () => {
          if (this.publisher.current === channel) this.publisherBackedUp = false;
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
    this.listenerChannel ??= this.connection.channel('notice listener', { setup: (channel) => this.setUpListener(channel) });
    return stopListening;
  }

  /** The publishing channel is up and the broker takes publishes: a notify() now goes out. */
  get canNotify(): boolean {
    return this.publisher.current !== undefined && !this.publisherBackedUp && this.connection.blockedReason === null;
  }

  close(): Promise<void> {
    // The exclusive queue and its bindings go with the connection.
    return this.connection.close(() => this.listeners.clear());
  }

  private async setUpListener(channel: Channel): Promise<void> {
    await declareNoticeTopology(channel);
    // A fresh name per connection: the broker may not yet have noticed that the last one died.
    const queue = processQueueName(Topology.noticesExchange);
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false, maxLength: NOTICE_QUEUE_MAX_LENGTH });
    if (this.connection.isClosed || this.connection.hasClosed(channel)) return;
    // From here on listen() binds and unbinds on this channel itself. The bindings for the jobs
    // listened to so far are issued in one go, so none of its calls can slip in between.
    this.subscription = { channel, queue };
    await Promise.all(
      this.listeners.jobIds().map((jobId) => channel.bindQueue(queue, Topology.noticesExchange, jobNoticeRoutingKey(jobId))),
    );
    await channel.consume(queue, (message) => this.onMessage(channel, message), { noAck: true, exclusive: true });
    this.logger.log(`Listening for job notices on ${queue}`);
  }

  private changeBinding(jobId: string, change: 'bind' | 'unbind'): void {
    const subscription = this.subscription;
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

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      restartCancelledConsumer(channel, 'job notices', this.logger);
      return;
    }
    const notice = parseNotice(message.content);
    if (!notice) {
      this.logger.warn(`Ignoring an unreadable notice (routing key ${message.fields.routingKey})`);
      return;
    }
    this.listeners.deliver(notice);
  }
}

function parseNotice(content: Buffer): JobNotice | null {
  const value = parseJsonObject(content);
  if (!value || typeof value.jobId !== 'string' || typeof value.what !== 'string') return null;
  const what = value.what as JobNotice['what'];
  return NOTICE_KINDS.has(what) ? { jobId: value.jobId, what } : null;
}
