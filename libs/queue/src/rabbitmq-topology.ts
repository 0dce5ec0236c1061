import { Channel } from 'amqplib';
import { JobKind, Topology, jobRoutingKey, retryQueueName } from '@flansible/contracts';

/**
 * Arguments of the jobs queue. Every client declares the queue with exactly these, so a gateway and a
 * runner of the same version never disagree (RabbitMQ refuses a redeclare with other arguments).
 */
export const jobsQueueArguments = {
  'x-queue-type': 'quorum',
  'x-delivery-limit': Topology.deliveryLimit,
  'x-dead-letter-exchange': Topology.deadLetterExchange,
} as const;

/**
 * Declares the job topology. Idempotent, and called from the channel setup functions so a broker
 * that lost its definitions (or a brand-new vhost) gets them back on every (re)connect.
 */
export async function declareJobTopology(channel: Channel): Promise<void> {
  // Dead-letter side first, so the jobs queue never points at a missing exchange.
  await channel.assertExchange(Topology.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(Topology.deadLetterQueue, { durable: true });
  await channel.bindQueue(Topology.deadLetterQueue, Topology.deadLetterExchange, '');

  await channel.assertExchange(Topology.jobsExchange, 'direct', { durable: true });
  await channel.assertQueue(Topology.jobsQueue, { durable: true, arguments: { ...jobsQueueArguments } });
  for (const kind of Object.values(JobKind)) {
    await channel.bindQueue(Topology.jobsQueue, Topology.jobsExchange, jobRoutingKey(kind));
  }
}

/**
 * Arguments of the retry queue for one delay. A message waits there `delayMs` (the same TTL for
 * every message of the queue, so none waits behind a longer one), then goes back to the jobs
 * queue through the default exchange: no binding to lose. At-least-once dead-lettering (which
 * needs reject-publish) keeps it until the jobs queue has confirmed it.
 */
export function retryQueueArguments(delayMs: number) {
  return {
    'x-queue-type': 'quorum',
    'x-message-ttl': delayMs,
    'x-overflow': 'reject-publish',
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': Topology.jobsQueue,
    'x-dead-letter-strategy': 'at-least-once',
  } as const;
}

/**
 * Declares the retry queues, one per delay (new names, so a broker holding the older topology
 * takes them without a conflict). Idempotent; from the consumer's setup function, as only
 * consumers return messages.
 */
export async function declareRetryTopology(channel: Channel, delaysMs: readonly number[]): Promise<void> {
  for (const delayMs of new Set(delaysMs)) {
    await channel.assertQueue(retryQueueName(delayMs), { durable: true, arguments: { ...retryQueueArguments(delayMs) } });
  }
}

/**
 * Declares the live-notice exchange. Durable so it outlives any one process; what flows through it
 * is transient. Called from setup functions, so on every (re)connect.
 */
export async function declareNoticeTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(Topology.noticesExchange, 'topic', { durable: true });
}

/** Declares the cancel-request fanout; durable like the notice exchange, its traffic transient. */
export async function declareControlTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(Topology.controlExchange, 'fanout', { durable: true });
}
