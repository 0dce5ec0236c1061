import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { Topology } from '@flansible/contracts';
import { eventually, recorder } from '@flansible/testing';
import { CancelRequest } from './job-cancel-bus';
import { QueueUnavailableError } from './job-queue';
import { RabbitMqJobCancelBus, RabbitMqJobCancelBusOptions } from './rabbitmq-job-cancel-bus';
import { ownQueue, useSignalSpecBroker } from './testing/signal-spec-helpers';

// Against the real broker, in a throwaway vhost (see signal-spec-helpers).
const broker = useSignalSpecBroker('cancel-spec');

function openBus(role: string, overrides: Partial<RabbitMqJobCancelBusOptions> = {}): RabbitMqJobCancelBus {
  return broker.track(
    new RabbitMqJobCancelBus({
      url: broker.vhost().url(),
      requestTimeoutMs: 5000,
      connectionName: `flansible-cancel-spec-${role}@${process.pid}`,
      reconnectSeconds: 0.2,
      channelRecoverySeconds: 0.2,
      ...overrides,
    }),
  );
}

const job = () => `job-${randomUUID()}`;
const ownControlQueues = async () => (await broker.listQueues()).filter((q) => ownQueue(Topology.controlExchange)(q.name));

describe('RabbitMqJobCancelBus', () => {
  it('delivers a cancel request to the onCancel handlers of every runner', async () => {
    const gateway = openBus('gateway');
    const [first, second] = [openBus('runner-1'), openBus('runner-2')];
    const heard = [recorder<CancelRequest>(), recorder<CancelRequest>(), recorder<CancelRequest>()];
    await first.onCancel(heard[0].record);
    await first.onCancel(heard[1].record);
    await second.onCancel(heard[2].record);
    const request: CancelRequest = { jobId: job(), reason: 'canceled by alice' };

    // onCancel() resolved with the subscription live: one request is enough.
    await gateway.requestCancel(request);

    await eventually(() => heard.every((h) => h.seen.length === 1), 'every handler');
    for (const h of heard) expect(h.seen).toEqual([request]);
  });

  it('publishes small transient requests on a durable fanout', async () => {
    const gateway = openBus('gateway');
    const { channel, queue } = await broker.tap(Topology.controlExchange, 'fanout', '');
    const request: CancelRequest = { jobId: job(), reason: 'canceled by alice' };

    await gateway.requestCancel(request);
    const message = await eventually(async () => (await channel.get(queue, { noAck: true })) || undefined, 'the request');
    expect((message as amqplib.GetMessage).properties.deliveryMode).not.toBe(2);
    expect(JSON.parse((message as amqplib.GetMessage).content.toString())).toEqual(request);
    expect(await broker.listExchanges()).toContainEqual({ name: Topology.controlExchange, type: 'fanout', durable: true });
  });

  it('gives each process one exclusive, auto-delete control queue, named after the process', async () => {
    const runner = openBus('runner');
    await runner.onCancel(() => undefined);
    await runner.onCancel(() => undefined);

    const queues = await eventually(async () => {
      const own = await ownControlQueues();
      return own.length > 0 && own;
    }, 'the queue');
    expect(queues).toHaveLength(1);
    for (const queue of queues) expect(queue).toMatchObject({ durable: false, auto_delete: true, exclusive: true });

    await broker.closeAll();
    await eventually(async () => (await ownControlQueues()).length === 0, 'the queue to go with its connection');
  });

  it('with the broker unreachable: requestCancel fails fast, onCancel resolves, nothing hangs', async () => {
    const bus = openBus('offline', { url: 'amqp://guest:guest@127.0.0.1:1/', requestTimeoutMs: 3000 });
    const request: CancelRequest = { jobId: job(), reason: 'test' };

    await expect(bus.requestCancel(request)).rejects.toBeInstanceOf(QueueUnavailableError);
    // Known to be down now: the failure names the cause instead of running into the timeout.
    await expect(bus.requestCancel(request)).rejects.toThrow(/cannot connect/);
    await bus.onCancel(() => undefined); // resolves: a runner starts without its broker

    await bus.close();
    await bus.close(); // idempotent
  });

  it('once closed: requestCancel and onCancel reject', async () => {
    const bus = openBus('closed');
    await bus.onCancel(() => undefined);
    await bus.close();

    await expect(bus.requestCancel({ jobId: 'x', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(bus.onCancel(() => undefined)).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('after a broker outage: resubscribes to cancels', async () => {
    const [gatewayLink, runnerLink] = [await broker.proxy(), await broker.proxy()];
    const gateway = openBus('gateway', { url: broker.vhost().url(gatewayLink.port) });
    const runner = openBus('runner', { url: broker.vhost().url(runnerLink.port) });
    const cancels = recorder<CancelRequest>();
    await runner.onCancel(cancels.record);
    const a = job();

    // Both lose the broker, and the runner sees it.
    await runnerLink.stop();
    await eventually(
      () => runner.requestCancel({ jobId: a, reason: 'probe' }).then(() => false, () => true),
      'the runner to see the outage',
    );
    await gatewayLink.stop();
    await gatewayLink.start();
    await runnerLink.start();

    const request: CancelRequest = { jobId: a, reason: 'after the outage' };
    await eventually(async () => {
      await gateway.requestCancel(request);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return cancels.seen.length > 0;
    }, 'a cancel request to reach the runner again');
    expect(cancels.seen).toContainEqual(request);
  });
});
