import { JobHeaders, JobKind, Topology, retryQueueName } from '@flansible/contracts';
import { eventually } from '@flansible/testing';
import { FAST_RETRIES, commandJob, useJobQueueSpecBroker } from './testing/job-queue-spec-helpers';

// RabbitMqJobQueue retries: a failed job waits in the retry queue of its delay, then is dead-lettered.
const { openQueue, takeMessage, readyCount, listQueues } = useJobQueueSpecBroker('queue-retry-spec');

describe('RabbitMqJobQueue', () => {
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

    const dead = await eventually(() => takeMessage(Topology.deadLetterQueue), 'the dead letter');
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
        // Queued before the failure is parked, so it is ready long before the retry's delay ends
        // (publishing after seeing the failure raced the 50 ms delay on a loaded machine).
        await queue.publish(healthy);
        throw new Error('store unavailable');
      }
    }, 1);
    await queue.publish(failing);
    await eventually(() => handled.length === 3, 'the retry');
    expect(handled).toEqual([
      { jobId: failing.jobId, redelivered: false },
      { jobId: healthy.jobId, redelivered: false },
      { jobId: failing.jobId, redelivered: true },
    ]);
    await queue.close();
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
    for (const delay of FAST_RETRIES) expect(await readyCount(retryQueueName(delay))).toBe(0);

    const retryQueue = (await listQueues()).find((q) => q.name === retryQueueName(FAST_RETRIES[0]));
    expect(retryQueue).toMatchObject({ type: 'quorum', durable: true });
    expect(Object.fromEntries(retryQueue!.arguments.map(([key, , value]) => [key, value]))).toMatchObject({
      'x-message-ttl': FAST_RETRIES[0],
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': Topology.jobsQueue,
    });
  });
});
