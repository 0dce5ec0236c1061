import { randomUUID } from 'node:crypto';
import { AddressInfo, Socket, createServer } from 'node:net';
import amqplib from 'amqplib';
import { Logger } from '@nestjs/common';
import {
  JOB_MESSAGE_SCHEMA_VERSION,
  JobHeaders,
  JobKind,
  JobMessage,
  JobSpec,
  Topology,
  jobRoutingKey,
  retryQueueName,
} from '@flansible/contracts';
import { DeliveryInfo, QueueUnavailableError } from './job-queue';
import { RabbitMqJobQueue, RabbitMqJobQueueOptions } from './rabbitmq-job-queue';
import { BrokerProxy } from './testing/broker-proxy';
import { ThrowawayVhost, createThrowawayVhost, rabbitmqctl } from './testing/throwaway-vhost';

// Runs against the real broker on 127.0.0.1:5672, inside a throwaway vhost (rabbitmqctl: the
// management plugin is not enabled here), so it can run beside any other suite.
jest.setTimeout(20_000);

let throwaway: ThrowawayVhost;
let vhost: string;
const brokerUrl = (port?: number) => throwaway.url(port);

type AmqpConnection = Awaited<ReturnType<typeof amqplib.connect>>;

let admin: AmqpConnection;
let adminChannel: amqplib.Channel;
const openQueues: RabbitMqJobQueue[] = [];
const cleanups: Array<() => Promise<unknown> | void> = [];

beforeAll(async () => {
  throwaway = await createThrowawayVhost('queue-spec');
  vhost = throwaway.name;
  admin = await amqplib.connect(brokerUrl());
  adminChannel = await admin.createChannel();
  // Queue logs are expected noise here (failing handlers, unreachable brokers).
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

/** Growing like the deployment's (1 s, 2 s, 4 s...), only shorter; one set for the whole vhost. */
const FAST_RETRIES = [50, 100, 200, 300, 400];

function openQueue(overrides: Partial<RabbitMqJobQueueOptions> = {}): RabbitMqJobQueue {
  const queue = new RabbitMqJobQueue({
    url: brokerUrl(),
    publishTimeoutMs: 5000,
    connectionName: `flansible-queue-spec@${process.pid}`,
    reconnectSeconds: 0.2,
    channelRecoverySeconds: 0.2,
    retryDelaysMs: FAST_RETRIES,
    ...overrides,
  });
  openQueues.push(queue);
  return queue;
}

function commandJob(overrides: Partial<JobMessage> = {}): JobMessage {
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

async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when released; lets a test hold handlers "running" as long as it likes. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release!: () => void;
  const wait = new Promise<void>((resolve) => (release = resolve));
  return { wait, release };
}

async function readyCount(queue: string): Promise<number> {
  return (await adminChannel.checkQueue(queue)).messageCount;
}

/** Consumers of a queue, or null while it does not exist (a channel of its own: a 404 closes it). */
async function consumerCount(queue: string): Promise<number | null> {
  const channel = await admin.createChannel();
  channel.on('error', () => undefined);
  try {
    return (await channel.checkQueue(queue)).consumerCount;
  } catch {
    return null;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

describe('RabbitMqJobQueue', () => {
  it('publishes a persistent, confirmed message carrying the job id, type and operator headers', async () => {
    const queue = openQueue();
    const job = commandJob();

    await queue.publish(job);

    const raw = await waitFor(() => adminChannel.get(Topology.jobsQueue, { noAck: true }), 'the published message');
    expect(raw.fields.exchange).toBe(Topology.jobsExchange);
    expect(raw.fields.routingKey).toBe(jobRoutingKey(JobKind.Command));
    expect(raw.properties).toMatchObject({
      messageId: job.jobId,
      type: Topology.jobMessageType,
      contentType: 'application/json',
      deliveryMode: 2,
      appId: 'flansible-gateway',
    });
    expect(typeof raw.properties.timestamp).toBe('number');
    expect(raw.properties.headers).toMatchObject({
      [JobHeaders.kind]: JobKind.Command,
      [JobHeaders.user]: 'alice',
      [JobHeaders.inventory]: '/srv/inventories/hosts.yml',
    });
    expect(JSON.parse(raw.content.toString())).toEqual(job);
  });

  it('leaves the inventory header out for a git job', async () => {
    const queue = openQueue();
    const job = commandJob({
      spec: { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false },
    });

    await queue.publish(job);

    const raw = await waitFor(() => adminChannel.get(Topology.jobsQueue, { noAck: true }), 'the published message');
    expect(raw.fields.routingKey).toBe(jobRoutingKey(JobKind.Git));
    expect(raw.properties.headers).toHaveProperty(JobHeaders.kind, JobKind.Git);
    expect(raw.properties.headers).not.toHaveProperty(JobHeaders.inventory);
  });

  it('declares a durable quorum jobs queue with a delivery limit and dead-lettering, bound for every job kind', async () => {
    await openQueue().publish(commandJob());

    const { stdout: queuesJson } = await rabbitmqctl(
      'list_queues', '-p', vhost, 'name', 'type', 'durable', 'arguments', '--formatter', 'json',
    );
    const queues = JSON.parse(queuesJson) as Array<{ name: string; type: string; durable: boolean; arguments: unknown }>;
    const jobs = queues.find((q) => q.name === Topology.jobsQueue);
    expect(jobs).toMatchObject({ type: 'quorum', durable: true });
    expect(JSON.stringify(jobs!.arguments)).toContain('x-delivery-limit');
    const args = Object.fromEntries(
      (jobs!.arguments as Array<[string, string, unknown]>).map(([key, , value]) => [key, value]),
    );
    expect(args).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': Topology.deliveryLimit,
      'x-dead-letter-exchange': Topology.deadLetterExchange,
    });
    expect(queues.find((q) => q.name === Topology.deadLetterQueue)).toMatchObject({ durable: true });

    const { stdout: exchangesJson } = await rabbitmqctl(
      'list_exchanges', '-p', vhost, 'name', 'type', 'durable', '--formatter', 'json',
    );
    const exchanges = JSON.parse(exchangesJson) as Array<{ name: string; type: string; durable: boolean }>;
    expect(exchanges.find((e) => e.name === Topology.jobsExchange)).toMatchObject({ type: 'direct', durable: true });
    expect(exchanges.find((e) => e.name === Topology.deadLetterExchange)).toMatchObject({ type: 'fanout', durable: true });

    const { stdout: bindingsJson } = await rabbitmqctl(
      'list_bindings', '-p', vhost, 'source_name', 'destination_name', 'routing_key', '--formatter', 'json',
    );
    const bindings = JSON.parse(bindingsJson) as Array<{ source_name: string; destination_name: string; routing_key: string }>;
    const jobKeys = bindings
      .filter((b) => b.source_name === Topology.jobsExchange && b.destination_name === Topology.jobsQueue)
      .map((b) => b.routing_key)
      .sort();
    expect(jobKeys).toEqual(Object.values(JobKind).map(jobRoutingKey).sort());
    expect(bindings).toContainEqual(
      expect.objectContaining({ source_name: Topology.deadLetterExchange, destination_name: Topology.deadLetterQueue }),
    );
  });

  it('delivers published jobs to the handler and acks them once it resolves', async () => {
    const publisher = openQueue();
    const consumer = openQueue();
    const jobs = [commandJob(), commandJob()];
    const received: Array<{ message: JobMessage; delivery: DeliveryInfo }> = [];

    await consumer.consume(async (message, delivery) => {
      received.push({ message, delivery });
    }, 2);
    for (const job of jobs) await publisher.publish(job);

    await waitFor(() => received.length === 2, 'both deliveries');
    expect(received.map((r) => r.message)).toEqual(jobs);
    expect(received.every((r) => r.delivery.redelivered === false)).toBe(true);
    // Acked, not merely in flight: nothing comes back once the consumer is gone.
    await consumer.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });

  it('redelivers a job whose handler threw, flagged redelivered', async () => {
    const queue = openQueue();
    const job = commandJob();
    const deliveries: DeliveryInfo[] = [];

    await queue.consume(async (_message, delivery) => {
      deliveries.push(delivery);
      if (deliveries.length === 1) throw new Error('runner hiccup');
    }, 1);
    await queue.publish(job);

    await waitFor(() => deliveries.length === 2, 'the redelivery');
    expect(deliveries).toEqual([{ redelivered: false }, { redelivered: true }]);
    await queue.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });

  it('dead-letters a job that keeps failing once the delivery limit is spent, each retry after a growing delay', async () => {
    const queue = openQueue();
    const job = commandJob();
    let attempts = 0;
    const deliveredAt: number[] = [];

    await queue.consume(async () => {
      attempts++;
      deliveredAt.push(Date.now());
      throw new Error('always broken');
    }, 1);
    await queue.publish(job);

    const dead = await waitFor(() => adminChannel.get(Topology.deadLetterQueue, { noAck: true }), 'the dead letter');
    expect(dead.properties.messageId).toBe(job.jobId);
    // The first delivery plus deliveryLimit retries, counted in the header the copies carry.
    expect(attempts).toBe(Topology.deliveryLimit + 1);
    expect(dead.properties.headers?.[JobHeaders.retries]).toBe(Topology.deliveryLimit);
    // Each retry waited in the queue of its delay, once; the last delivery was rejected to the dead letters.
    const deaths = (dead.properties.headers?.['x-death'] as Array<{ queue: string; reason: string; count: number }>).map(
      ({ queue: name, reason, count }) => ({ name, reason, count }),
    );
    expect(deaths).toEqual(
      expect.arrayContaining([
        ...FAST_RETRIES.map((delay) => ({ name: retryQueueName(delay), reason: 'expired', count: 1 })),
        { name: Topology.jobsQueue, reason: 'rejected', count: 1 },
      ]),
    );
    expect(dead.properties.headers?.['x-first-death-queue']).toBe(retryQueueName(FAST_RETRIES[0]));
    // A message never leaves a retry queue before its TTL.
    FAST_RETRIES.forEach((delay, i) => expect(deliveredAt[i + 1] - deliveredAt[i]).toBeGreaterThanOrEqual(delay));
    // The operator's headers travel with every copy.
    expect(dead.properties.headers).toMatchObject({ [JobHeaders.kind]: JobKind.Command, [JobHeaders.user]: 'alice' });
  });

  it('delivers a failed job again after its delay, other jobs flowing meanwhile, through durable retry queues', async () => {
    const queue = openQueue();
    const failing = commandJob();
    const healthy = commandJob();
    const handled: Array<{ jobId: string; redelivered: boolean }> = [];
    await queue.consume(async (message, delivery) => {
      handled.push({ jobId: message.jobId, redelivered: delivery.redelivered });
      if (message.jobId === failing.jobId && handled.filter((h) => h.jobId === failing.jobId).length === 1) {
        throw new Error('store unavailable');
      }
    }, 1);
    await queue.publish(failing);
    await waitFor(() => handled.length === 1, 'the first delivery');
    await queue.publish(healthy);
    await waitFor(() => handled.length === 3, 'the retry');
    expect(handled).toEqual([
      { jobId: failing.jobId, redelivered: false },
      { jobId: healthy.jobId, redelivered: false },
      { jobId: failing.jobId, redelivered: true },
    ]);
    await queue.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
    for (const delay of FAST_RETRIES) expect(await readyCount(retryQueueName(delay))).toBe(0);

    const { stdout } = await rabbitmqctl('list_queues', '-p', vhost, 'name', 'type', 'durable', 'arguments', '--formatter', 'json');
    const retryQueue = (JSON.parse(stdout) as Array<{ name: string; type: string; durable: boolean; arguments: Array<[string, string, unknown]> }>).find(
      (q) => q.name === retryQueueName(FAST_RETRIES[0]),
    );
    expect(retryQueue).toMatchObject({ type: 'quorum', durable: true });
    expect(Object.fromEntries(retryQueue!.arguments.map(([key, , value]) => [key, value]))).toMatchObject({
      'x-message-ttl': FAST_RETRIES[0],
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': Topology.jobsQueue,
    });
  });

  it('dead-letters unreadable messages without calling the handler, and keeps consuming', async () => {
    const valid = commandJob();
    await openQueue().publish(valid);
    const queue = openQueue();
    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);

    const routingKey = jobRoutingKey(JobKind.Command);
    adminChannel.publish(Topology.jobsExchange, routingKey, Buffer.from('{not json'), { messageId: 'garbage' });
    adminChannel.publish(
      Topology.jobsExchange,
      routingKey,
      Buffer.from(JSON.stringify({ schemaVersion: 99, jobId: 'x', submittedBy: 'y', spec: { kind: 'command' } })),
      { messageId: 'wrong-schema' },
    );

    await waitFor(() => handled.length === 1, 'the valid job');
    expect(handled).toEqual([valid.jobId]);
    const deadIds: unknown[] = [];
    await waitFor(async () => {
      const dead = await adminChannel.get(Topology.deadLetterQueue, { noAck: true });
      if (dead) deadIds.push(dead.properties.messageId);
      return deadIds.length === 2;
    }, 'both dead letters');
    expect(deadIds.sort()).toEqual(['garbage', 'wrong-schema']);
  });

  it('keeps a message unacked while its handler runs: a consumer that dies mid-job loses nothing', async () => {
    const job = commandJob();
    const firstHandler = gate();
    const firstStarted = gate();
    const first = openQueue();
    await first.consume(async () => {
      firstStarted.release();
      await firstHandler.wait;
    }, 1);
    await openQueue().publish(job);
    await firstStarted.wait;

    await first.close();
    const second = openQueue();
    const redelivered: Array<{ jobId: string; delivery: DeliveryInfo }> = [];
    await second.consume(async (message, delivery) => {
      redelivered.push({ jobId: message.jobId, delivery });
    }, 1);

    await waitFor(() => redelivered.length === 1, 'the redelivery to the second consumer');
    expect(redelivered[0]).toEqual({ jobId: job.jobId, delivery: { redelivered: true } });
    // The first handler finishing late must not throw (its channel is gone, so it does not ack).
    firstHandler.release();
    await sleep(50);
    await second.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });

  it('runs at most `concurrency` handlers at once (prefetch)', async () => {
    const queue = openQueue();
    const release = gate();
    let running = 0;
    let mostAtOnce = 0;
    let done = 0;
    await queue.consume(async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await release.wait;
      running--;
      done++;
    }, 2);
    for (let i = 0; i < 5; i++) await queue.publish(commandJob());

    await waitFor(() => running === 2, 'two running handlers');
    await sleep(300); // room for a third delivery, were prefetch not honoured
    expect(running).toBe(2);
    expect(await readyCount(Topology.jobsQueue)).toBe(3);

    release.release();
    await waitFor(() => done === 5, 'all five jobs');
    expect(mostAtOnce).toBe(2);
  });

  it('rejects with QueueUnavailableError when the broker is unreachable, and closes promptly', async () => {
    const queue = openQueue({ url: 'amqp://guest:guest@127.0.0.1:1/', publishTimeoutMs: 3000 });

    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);
    // Already known to be down: fails without waiting for a timeout.
    await expect(queue.publish(commandJob())).rejects.toThrow(/cannot connect/);
    await queue.close();
    await queue.close(); // idempotent
  });

  it('gives up after publishTimeoutMs when the broker accepts TCP but never answers', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as AddressInfo;
    const queue = openQueue({ url: brokerUrl(port), publishTimeoutMs: 300, connectTimeoutMs: 10_000 });

    await expect(queue.publish(commandJob())).rejects.toThrow(QueueUnavailableError);
    await queue.close();
  });

  it('starts while the broker is down, recovers when it is back, and never sends a publish that failed', async () => {
    const proxy = await BrokerProxy.onFreePort();
    cleanups.push(() => proxy.stop());
    const queue = openQueue({ url: brokerUrl(proxy.port), publishTimeoutMs: 2000 });
    const failedJob = commandJob();

    await expect(queue.publish(failedJob)).rejects.toBeInstanceOf(QueueUnavailableError);

    await proxy.start();
    const laterJob = commandJob();
    await waitFor(() => queue.publish(laterJob).then(() => true, () => false), 'a publish after the broker is back');

    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);
    await waitFor(() => handled.length >= 1, 'the delivery');

    // Broker "restarts": the consumer comes back by itself on the new connection.
    await proxy.stop();
    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);
    await proxy.start();
    const afterRestart = commandJob();
    await waitFor(() => queue.publish(afterRestart).then(() => true, () => false), 'a publish after the restart');
    await waitFor(() => handled.includes(afterRestart.jobId), 'the delivery after the restart');

    // Each failed publish stayed failed: only the confirmed ones ever reached the queue.
    expect(handled).not.toContain(failedJob.jobId);
    expect(new Set(handled)).toEqual(new Set([laterJob.jobId, afterRestart.jobId]));
  });

  it('reopens its channel and redeclares the topology when the broker closes the channel under it', async () => {
    const queue = openQueue();
    await queue.publish(commandJob());
    await adminChannel.deleteExchange(Topology.jobsExchange);

    // Publishing to the vanished exchange makes the broker close the channel (404).
    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);

    const job = commandJob();
    await waitFor(() => queue.publish(job).then(() => true, () => false), 'a publish after recovery');
    const raw = await waitFor(async () => {
      const message = await adminChannel.get(Topology.jobsQueue, { noAck: true });
      return message && message.properties.messageId === job.jobId ? message : null;
    }, 'the job in the redeclared topology');
    expect(raw.fields.exchange).toBe(Topology.jobsExchange);
  });

  it('starts consuming again when the jobs queue is deleted under its consumer', async () => {
    const queue = openQueue();
    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);
    const first = commandJob();
    await queue.publish(first);
    await waitFor(() => handled.includes(first.jobId), 'the first delivery');

    // The broker cancels the consumer, which redeclares the queue and consumes it again.
    await adminChannel.deleteQueue(Topology.jobsQueue);
    await waitFor(async () => (await consumerCount(Topology.jobsQueue)) === 1, 'the restored consumer');

    const second = commandJob();
    await waitFor(() => queue.publish(second).then(() => true, () => false), 'a publish after recovery');
    await waitFor(() => handled.includes(second.jobId), 'a delivery to the restored consumer');
  });

  it('declares the topology again when a job comes back unroutable, and reports that publish as failed', async () => {
    const queue = openQueue();
    await queue.publish(commandJob());
    await adminChannel.deleteQueue(Topology.jobsQueue);

    const lost = commandJob();
    await expect(queue.publish(lost)).rejects.toThrow(/could not route/);

    const job = commandJob();
    await waitFor(() => queue.publish(job).then(() => true, () => false), 'a publish after the redeclaration');
    const raw = await waitFor(() => adminChannel.get(Topology.jobsQueue, { noAck: true }), 'the job');
    expect(raw.properties.messageId).toBe(job.jobId);
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });
});
