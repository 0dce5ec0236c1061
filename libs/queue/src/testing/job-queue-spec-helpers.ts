import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { Logger } from '@nestjs/common';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobMessage, JobSpec, Topology, retryQueueName } from '@flansible/contracts';
import { RabbitMqJobQueue, RabbitMqJobQueueOptions } from '../rabbitmq-job-queue';
import { ThrowawayVhost, createThrowawayVhost, rabbitmqctl } from './throwaway-vhost';

// For the RabbitMqJobQueue specs (rabbitmq-job-queue-*.integration-spec.ts): the real broker on
// 127.0.0.1:5672, inside a vhost of the spec file's own (throwaway-vhost.ts), so the files run side
// by side and beside any other suite.

type AmqpConnection = Awaited<ReturnType<typeof amqplib.connect>>;

/** Growing like the deployment's (1 s, 2 s, 4 s...), only shorter; one set for the whole vhost. */
export const FAST_RETRIES = [50, 100, 200, 300, 400];

/** A queue argument as rabbitmqctl lists it: [key, type, value]. */
export type QueueArgument = [string, string, unknown];
export interface ListedQueue {
  name: string;
  type: string;
  durable: boolean;
  arguments: QueueArgument[];
}
export interface ListedExchange {
  name: string;
  type: string;
  durable: boolean;
}
export interface ListedBinding {
  source_name: string;
  destination_name: string;
  routing_key: string;
}

export interface JobQueueSpecBroker {
  /** amqp URL of the spec file's vhost; another port reaches it through a proxy or a fake broker. */
  brokerUrl(port?: number): string;
  /** A channel of the spec's own on the vhost, there from beforeAll on (publishing garbage, deleting topology). */
  adminChannel(): amqplib.Channel;
  /** A queue on the vhost with short timeouts and FAST_RETRIES, closed after the test. */
  openQueue(overrides?: Partial<RabbitMqJobQueueOptions>): RabbitMqJobQueue;
  /** Runs after the test, once its queues are closed. */
  onCleanup(cleanup: () => Promise<unknown> | void): void;
  /** Takes the next ready message of `queue` off it (acked), or false while there is none. */
  takeMessage(queue: string): Promise<amqplib.GetMessage | false>;
  /** Ready messages of `queue`. */
  readyCount(queue: string): Promise<number>;
  /** Consumers of a queue, or null while it does not exist. */
  consumerCount(queue: string): Promise<number | null>;
  listQueues(): Promise<ListedQueue[]>;
  listExchanges(): Promise<ListedExchange[]>;
  listBindings(): Promise<ListedBinding[]>;
}

/**
 * Registers the spec file's hooks: a throwaway vhost and an admin connection to it for the file,
 * the queue logs silenced (failing handlers and unreachable brokers are expected noise here), and
 * after each test its queues closed, its cleanups run and the jobs, dead-letter and retry queues purged.
 */
export function useJobQueueSpecBroker(label: string): JobQueueSpecBroker {
  jest.setTimeout(20_000);
  let throwaway: ThrowawayVhost;
  let admin: AmqpConnection;
  let adminChannel: amqplib.Channel;
  const openQueues: RabbitMqJobQueue[] = [];
  const cleanups: Array<() => Promise<unknown> | void> = [];

  beforeAll(async () => {
    throwaway = await createThrowawayVhost(label);
    admin = await amqplib.connect(throwaway.url());
    adminChannel = await admin.createChannel();
    Logger.overrideLogger(false);
  });

  afterEach(async () => {
    await Promise.all(openQueues.splice(0).map((queue) => queue.close()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
    // Each test starts from empty queues. A channel of its own: purging a queue that was never
    // declared (a test run filtered with -t) closes the channel.
    const purger = await admin.createChannel();
    purger.on('error', () => undefined);
    for (const name of [Topology.jobsQueue, Topology.deadLetterQueue, ...FAST_RETRIES.map(retryQueueName)]) {
      await purger.purgeQueue(name).catch(() => undefined);
    }
    await purger.close().catch(() => undefined);
  });

  afterAll(async () => {
    await admin?.close().catch(() => undefined);
    await throwaway?.remove();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
  });

  const listed = async <T>(what: string, ...columns: string[]): Promise<T[]> => {
    const { stdout } = await rabbitmqctl(what, '-p', throwaway.name, ...columns, '--formatter', 'json');
    return JSON.parse(stdout) as T[];
  };

  return {
    brokerUrl: (port) => throwaway.url(port),
    adminChannel: () => adminChannel,
    openQueue(overrides = {}) {
      const queue = new RabbitMqJobQueue({
        url: throwaway.url(),
        publishTimeoutMs: 5000,
        connectionName: `flansible-queue-spec@${process.pid}`,
        reconnectSeconds: 0.2,
        channelRecoverySeconds: 0.2,
        retryDelaysMs: FAST_RETRIES,
        ...overrides,
      });
      openQueues.push(queue);
      return queue;
    },
    onCleanup: (cleanup) => void cleanups.push(cleanup),
    takeMessage: (queue) => adminChannel.get(queue, { noAck: true }),
    readyCount: async (queue) => (await adminChannel.checkQueue(queue)).messageCount,
    async consumerCount(queue) {
      // A channel of its own: a 404 closes it.
      const channel = await admin.createChannel();
      channel.on('error', () => undefined);
      try {
        return (await channel.checkQueue(queue)).consumerCount;
      } catch {
        return null;
      } finally {
        await channel.close().catch(() => undefined);
      }
    },
    listQueues: () => listed<ListedQueue>('list_queues', 'name', 'type', 'durable', 'arguments'),
    listExchanges: () => listed<ListedExchange>('list_exchanges', 'name', 'type', 'durable'),
    listBindings: () => listed<ListedBinding>('list_bindings', 'source_name', 'destination_name', 'routing_key'),
  };
}

/** A command job from alice (an ad-hoc ping of all hosts), with `overrides`. */
export function commandJob(overrides: Partial<JobMessage> = {}): JobMessage {
  const spec: JobSpec = {
    kind: JobKind.Command,
    hostPattern: 'all',
    module: 'ping',
    inventoryPath: '/srv/inventories/hosts.yml',
  };
  return {
    schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
    jobId: randomUUID(),
    submittedBy: 'alice',
    submittedAt: new Date().toISOString(),
    spec,
    ...overrides,
  };
}

/** Whether the broker confirmed `job` now: a probe for eventually() while the queue recovers. */
export const publishes = (queue: RabbitMqJobQueue, job: JobMessage): Promise<boolean> =>
  queue.publish(job).then(() => true, () => false);


/** A fixed pause, for room in which something must not happen. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { gate } from '@flansible/testing';
