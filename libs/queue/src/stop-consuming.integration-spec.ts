import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobMessage } from '@flansible/contracts';
import { InProcessJobQueue } from './in-process-job-queue';
import { JobQueue } from './job-queue';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';
import { BrokerProxy } from './testing/broker-proxy';
import { ThrowawayVhost, createThrowawayVhost } from './testing/throwaway-vhost';
import { eventually, gate } from '@flansible/testing';

// A draining runner's queue: stopConsuming() hands nothing more to its handler, while the handlers
// already running settle their messages as usual. RabbitMQ runs for real, in a throwaway vhost.
jest.setTimeout(20_000);

const job = (): JobMessage => ({
  schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
  jobId: randomUUID(),
  submittedBy: 'alice',
  submittedAt: new Date().toISOString(),
  spec: { kind: JobKind.Command, hostPattern: 'all', module: 'ping', inventoryPath: '/srv/inventories/hosts.yml' },
});



/** Starts a holding consumer on `draining` and publishes one job to it, which it then holds running. */
async function startOneJob(draining: RabbitMqJobQueue, concurrency: number) {
  const consumer = holdingConsumer(draining, concurrency);
  await consumer.start();
  await eventually(() => draining.consuming && draining.canPublish, 'the consumer to start');
  const running = job();
  await draining.publish(running);
  await eventually(() => consumer.got.length === 1, 'the running job');
  return { consumer, running };
}

/** A consumer that records what it got and holds each handler until released. */
function holdingConsumer(queue: JobQueue, concurrency: number) {
  const got: string[] = [];
  const held = gate();
  const start = () =>
    queue.consume(async (message) => {
      got.push(message.jobId);
      await held.wait;
    }, concurrency);
  return { got, release: held.release, start };
}

describe('InProcessJobQueue.stopConsuming', () => {
  it('lets the running handler finish and keeps the other jobs queued, also one already handed out', async () => {
    const queue = new InProcessJobQueue();
    const consumer = holdingConsumer(queue, 2);
    await consumer.start();
    const [first, second, third] = [job(), job(), job()];
    await queue.publish(first);
    await eventually(() => consumer.got.length === 1, 'the first delivery');
    // Handed out (its delivery is a tick away) but not started when the drain begins.
    await queue.publish(second);
    await queue.stopConsuming();
    await queue.publish(third);
    expect(queue.consuming).toBe(false);
    expect(queue.canPublish).toBe(true);
    consumer.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumer.got).toEqual([first.jobId]);
    expect(queue.depth).toBe(2);
    await queue.close();
  });
});

describe('RabbitMqJobQueue.stopConsuming', () => {
  let throwaway: ThrowawayVhost;
  const queues: RabbitMqJobQueue[] = [];
  const open = (port?: number) => {
    const queue = new RabbitMqJobQueue({
      url: throwaway.url(port),
      publishTimeoutMs: 5000,
      connectionName: `flansible-stop-consuming-spec@${process.pid}`,
      reconnectSeconds: 0.2,
    });
    queues.push(queue);
    return queue;
  };

  beforeAll(async () => {
    throwaway = await createThrowawayVhost('stop-consuming-spec');
    Logger.overrideLogger(false);
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  });
  afterAll(async () => {
    await throwaway?.remove();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
  });

  it('hands nothing more to its handler, not even after a reconnect; publishing goes on', async () => {
    const proxy = await BrokerProxy.onFreePort();
    await proxy.start();
    const draining = open(proxy.port);
    const { consumer, running } = await startOneJob(draining, 2);

    await draining.stopConsuming();
    expect(draining.consuming).toBe(false);
    consumer.release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A reconnect runs the consumer's setup again: it must not consume again.
    await proxy.stop();
    await eventually(() => !draining.canPublish, 'the broker to be unreachable');
    await proxy.start();
    await eventually(() => draining.canPublish, 'the reconnect');

    const other = open();
    const taken: string[] = [];
    await other.consume(async (message) => void taken.push(message.jobId), 1);
    const queued = [job(), job()];
    for (const message of queued) await draining.publish(message);
    await eventually(() => taken.length === 2, 'the other runner to take the queued jobs');
    expect(taken.sort()).toEqual(queued.map((m) => m.jobId).sort());
    expect(consumer.got).toEqual([running.jobId]);
    await proxy.stop();
  });

  it('acks the messages its running handlers finish after stopConsuming, on their own channel', async () => {
    const draining = open();
    const { consumer, running } = await startOneJob(draining, 1);
    await draining.stopConsuming();
    consumer.release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Acked: closing the connection gives nothing back for another consumer.
    await draining.close();
    const other = open();
    const taken: string[] = [];
    await other.consume(async (message) => void taken.push(message.jobId), 1);
    const probe = job();
    await other.publish(probe);
    await eventually(() => taken.includes(probe.jobId), 'the probe job');
    expect(taken).toEqual([probe.jobId]);
  });
});
