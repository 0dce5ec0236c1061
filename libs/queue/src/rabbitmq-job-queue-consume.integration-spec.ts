import { JobKind, JobMessage, Topology, jobRoutingKey } from '@flansible/contracts';
import { eventually, heldHandler } from '@flansible/testing';
import { DeliveryInfo } from './job-queue';
import { commandJob, gate, sleep, useJobQueueSpecBroker } from './testing/job-queue-spec-helpers';

// RabbitMqJobQueue consuming: delivery, acks, prefetch and unreadable messages.
const { openQueue, adminChannel, takeMessage, readyCount } = useJobQueueSpecBroker('queue-consume-spec');

describe('RabbitMqJobQueue', () => {
  it('delivers published jobs to the handler and acks them once it resolves', async () => {
    const publisher = openQueue();
    const consumer = openQueue();
    const jobs = [commandJob(), commandJob()];
    const received: Array<{ message: JobMessage; delivery: DeliveryInfo }> = [];

    await consumer.consume(async (message, delivery) => {
      received.push({ message, delivery });
    }, 2);
    for (const job of jobs) await publisher.publish(job);

    await eventually(() => received.length === 2, 'both deliveries');
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

    await eventually(() => deliveries.length === 2, 'the redelivery');
    expect(deliveries).toEqual([{ redelivered: false }, { redelivered: true }]);
    await queue.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
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
    adminChannel().publish(Topology.jobsExchange, routingKey, Buffer.from('{not json'), { messageId: 'garbage' });
    adminChannel().publish(
      Topology.jobsExchange,
      routingKey,
      Buffer.from(JSON.stringify({ schemaVersion: 99, jobId: 'x', submittedBy: 'y', spec: { kind: 'command' } })),
      { messageId: 'wrong-schema' },
    );

    await eventually(() => handled.length === 1, 'the valid job');
    expect(handled).toEqual([valid.jobId]);
    const deadIds: unknown[] = [];
    await eventually(async () => {
      const dead = await takeMessage(Topology.deadLetterQueue);
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

    await eventually(() => redelivered.length === 1, 'the redelivery to the second consumer');
    expect(redelivered[0]).toEqual({ jobId: job.jobId, delivery: { redelivered: true } });
    // The first handler finishing late must not throw (its channel is gone, so it does not ack).
    firstHandler.release();
    await sleep(50);
    await second.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });

  it('runs at most `concurrency` handlers at once (prefetch)', async () => {
    const queue = openQueue();
    const load = heldHandler();
    await queue.consume(load.handler, 2);
    for (let i = 0; i < 5; i++) await queue.publish(commandJob());

    await eventually(() => load.running === 2, 'two running handlers');
    await sleep(300); // room for a third delivery, were prefetch not honoured
    expect(load.running).toBe(2);
    expect(await readyCount(Topology.jobsQueue)).toBe(3);

    load.release();
    await eventually(() => load.done === 5, 'all five jobs');
    expect(load.mostAtOnce).toBe(2);
  });
});
