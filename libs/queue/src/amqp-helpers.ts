// Small helpers shared by the RabbitMQ adapters (not part of the library's public face).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@nestjs/common';
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { QueueUnavailableError } from './job-queue';

/** scheme://host:port/vhost, without credentials, for logs and error messages. */
export function describeBroker(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname || '/'}`;
  } catch {
    throw new Error('The RabbitMQ URL is not a valid URL');
  }
}

/** A pause that does not keep the process alive on its own. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves true if the promise settled in time, false otherwise (leaving it running). */
export async function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** One message for publishConfirmed(). */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

export interface ConfirmExpectation {
  /** What is published, for the error messages: `job 42`, `the cancel request for job 42`. */
  subject: string;
  /** Epoch ms by which the broker must have confirmed. */
  deadline: number;
  /** The caller's whole time budget, for the error message. */
  timeoutMs: number;
  /** A broker ack can still hide a failure (a mandatory message returned unroutable): the error, if so. */
  failureDespiteAck?: () => QueueUnavailableError | undefined;
}

export interface PendingConfirm {
  /** Resolves on the broker's ack; rejects with QueueUnavailableError on a nack, a dead channel or the deadline. */
  readonly confirmed: Promise<void>;
  /** Rejects `confirmed` at once (the publisher is closing), unless it has already settled. */
  fail(error: QueueUnavailableError): void;
}

/**
 * Publishes on a raw confirm channel and follows the broker's answer, never past the deadline.
 * Straight on the channel, never through ChannelWrapper.publish(), which would keep the message and
 * send it after a reconnect, long after its sender was told it failed.
 */
export function publishConfirmed(
  channel: ConfirmChannel,
  message: OutgoingMessage,
  { subject, deadline, timeoutMs, failureDespiteAck }: ConfirmExpectation,
): PendingConfirm {
  let finish: (error?: QueueUnavailableError) => void = () => undefined;
  const confirmed = new Promise<void>((resolve, reject) => {
    let settled = false;
    finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new QueueUnavailableError(`RabbitMQ did not confirm ${subject} within ${timeoutMs} ms`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    channel.publish(message.exchange, message.routingKey, message.content, message.options, (err) => {
      if (err) finish(new QueueUnavailableError(`RabbitMQ did not accept ${subject}: ${errorMessage(err)}`));
      else finish(failureDespiteAck?.());
    });
  } catch (err) {
    // amqplib throws synchronously when the channel has just closed.
    finish(new QueueUnavailableError(`RabbitMQ channel unusable: ${errorMessage(err)}`));
  }
  return { confirmed, fail: (error) => finish(error) };
}

/** `<exchange>.<host>.<pid>.<random>`: a process's own queue on a signal exchange, readable in the management UI, unique per connection. */
export function processQueueName(exchange: string): string {
  return `${exchange}.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** A message body that is a JSON object, or null (anyone may publish on the signal exchanges). */
export function parseJsonObject(content: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(content.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * A null delivery: the broker dropped the consumer (its queue deleted by hand, a leader moved away).
 * Closing the channel makes the connection's recovery run the setup again, which consumes anew.
 */
export function restartCancelledConsumer(channel: Channel, consumerOf: string, logger: Logger): void {
  logger.warn(`RabbitMQ cancelled the consumer of ${consumerOf}; restarting it`);
  channel.close().catch(() => undefined);
}
