import amqplib from 'amqplib';
import { Logger } from '@nestjs/common';
import { Topology } from '@flansible/contracts';
import { HeldDeliveries, QueueDepth } from './job-queue-stats';
import { RabbitMqJobQueueStats } from './rabbitmq-job-queue-stats';
import { ThrowawayVhost, createThrowawayVhost } from './testing/throwaway-vhost';

// Against the real broker on 127.0.0.1:5672, in a throwaway vhost.
jest.setTimeout(20_000);

let throwaway: ThrowawayVhost;
const opened: RabbitMqJobQueueStats[] = [];

const statsOf = (url: string, held = new HeldDeliveries()): RabbitMqJobQueueStats => {
  const stats = new RabbitMqJobQueueStats({ url, connectionName: 'flansible-stats-spec', cacheMs: 0, reconnectSeconds: 0.2 }, held);
  opened.push(stats);
  return stats;
};
const count = (depths: QueueDepth[], queue: string, state: string) => depths.find((d) => d.queue === queue && d.state === state)?.messages;

beforeAll(async () => {
  throwaway = await createThrowawayVhost('stats-spec');
  Logger.overrideLogger(false);
});
afterAll(async () => {
  await Promise.all(opened.map((stats) => stats.close()));
  await throwaway?.remove();
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
});

describe('RabbitMqJobQueueStats', () => {
  it('reads the ready messages of both queues from the broker, and the deliveries this process holds as unacked', async () => {
    const held = new HeldDeliveries();
    const stats = statsOf(throwaway.url(), held);
    // A brand-new vhost: the reading declares the topology first, so both queues read 0.
    const empty = await stats.read();
    expect(count(empty, Topology.jobsQueue, 'ready')).toBe(0);
    expect(count(empty, Topology.deadLetterQueue, 'ready')).toBe(0);

    const connection = await amqplib.connect(throwaway.url());
    try {
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < 3; i++) channel.sendToQueue(Topology.jobsQueue, Buffer.from('{}'), { persistent: true });
      channel.sendToQueue(Topology.deadLetterQueue, Buffer.from('{}'), { persistent: true });
      await channel.waitForConfirms();
      let release!: () => void;
      const holding = held.track(() => new Promise<void>((resolve) => (release = resolve)));

      const depths = await stats.read();
      expect(count(depths, Topology.jobsQueue, 'ready')).toBe(3);
      expect(count(depths, Topology.deadLetterQueue, 'ready')).toBe(1);
      expect(count(depths, Topology.jobsQueue, 'unacked')).toBe(1);
      expect(count(depths, Topology.deadLetterQueue, 'unacked')).toBe(0);
      release();
      await holding;
      expect(count(await stats.read(), Topology.jobsQueue, 'unacked')).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('leaves the broker counts out, instead of reading 0, when the broker cannot be reached', async () => {
    // Nothing listens on port 1.
    const depths = await statsOf(throwaway.url(1)).read();
    expect(depths.filter((d) => d.state === 'ready')).toEqual([]);
    expect(count(depths, Topology.jobsQueue, 'unacked')).toBe(0);
  });
});
