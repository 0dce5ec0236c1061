import { Logger } from '@nestjs/common';
import { Channel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import { JobHeaders, JobMessage, Topology, isJobMessage, retryQueueName } from '@flansible/contracts';
import { JobHandler, QueueUnavailableError } from './job-queue';
import { errorMessage, publishConfirmed } from './amqp-helpers';
import { describeDelay, retryDelay } from './retry-schedule';

/** Set by the broker on each delivery of a quorum queue; a copy put in a retry queue starts afresh. */
const BROKER_DELIVERY_COUNT = 'x-delivery-count';

export interface RabbitMqJobDeliveriesOptions {
  logger: Logger;
  /** The delays before each retry of a failed message. */
  retryDelaysMs: readonly number[];
  /** Upper bound for parking a retry copy (the broker's confirm). */
  publishTimeoutMs: number;
  /** The channel has closed: a delivery on it can no longer be settled (the broker redelivers it). */
  hasClosed: (channel: Channel) => boolean;
}

/**
 * What happens to one delivery of the jobs queue: an unreadable body is dead-lettered; the handler
 * runs; its success acks the message, its failure parks a copy in the retry queue of its delay (1 s,
 * 2 s, 4 s...) and acks the original once the broker confirmed the copy; past the delivery limit the
 * message is dead-lettered. Every settle happens on the channel the delivery arrived on.
 */
export class RabbitMqJobDeliveries {
  private readonly logger: Logger;
  /** Retry copies awaiting their confirm, by job id; a basic.return marks one unroutable. */
  private readonly unconfirmedRetries = new Map<string, { returned: boolean }>();

  constructor(private readonly options: RabbitMqJobDeliveriesOptions) {
    this.logger = options.logger;
  }

  /** From the consumer channel's setup: a retry copy that comes back unroutable is a failed park. */
  watchReturns(channel: ConfirmChannel): void {
    channel.on('return', (returned: Message) => {
      const pending = this.unconfirmedRetries.get(String(returned.properties.messageId));
      if (pending) pending.returned = true;
    });
  }

  async handle(channel: ConfirmChannel, delivery: ConsumeMessage, handler: JobHandler): Promise<void> {
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

  /** Settles on the channel the delivery arrived on; if that channel is gone the broker redelivers. */
  settle(channel: Channel, delivery: ConsumeMessage, outcome: 'ack' | 'requeue' | 'dead-letter'): void {
    if (this.options.hasClosed(channel)) {
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

  /**
   * A failed delivery: a copy with one more retry goes to the retry queue of its delay, and the
   * original is acked once the broker has confirmed the copy (a crash in between leaves both: the
   * runner's claim makes the extra one harmless). Past the limit, the message is dead-lettered; if
   * the copy cannot be parked, the message goes straight back, as it did before retry queues.
   */
  private async retryLater(channel: ConfirmChannel, delivery: ConsumeMessage, jobId: string, retries: number, reason: string): Promise<void> {
    // The broker redelivers a message whose channel closed: a copy now would be one too many.
    if (this.options.hasClosed(channel)) return;
    const deliveries = `delivery ${retries + 1} of ${Topology.deliveryLimit + 1}`;
    const delay = retryDelay(retries + 1, this.options.retryDelaysMs);
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
