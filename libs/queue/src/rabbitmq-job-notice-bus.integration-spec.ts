import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { JobNotice, Topology, jobNoticeRoutingKey } from '@flansible/contracts';
import { eventually, recorder } from '@flansible/testing';
import { RabbitMqJobNoticeBus, RabbitMqJobNoticeBusOptions } from './rabbitmq-job-notice-bus';
import { ownQueue, useSignalSpecBroker } from './testing/signal-spec-helpers';
import { rabbitmqctl } from './testing/throwaway-vhost';

// Against the real broker, in a throwaway vhost (see signal-spec-helpers).
const broker = useSignalSpecBroker('notice-spec');

function openBus(role: string, overrides: Partial<RabbitMqJobNoticeBusOptions> = {}): RabbitMqJobNoticeBus {
  return broker.track(
    new RabbitMqJobNoticeBus({
      url: broker.vhost().url(),
      connectionName: `flansible-notice-spec-${role}@${process.pid}`,
      reconnectSeconds: 0.2,
      channelRecoverySeconds: 0.2,
      ...overrides,
    }),
  );
}

/**
 * Sends `notices` in order, again and again, until `heard()`. listen() binds in the background, so
 * the first ones may go nowhere; notices are hints, so repeats are what a real runner does anyway.
 */
async function notifyUntil(bus: RabbitMqJobNoticeBus, notices: JobNotice[], heard: () => boolean, what: string) {
  await eventually(() => {
    if (heard()) return true;
    for (const notice of notices) bus.notify(notice);
    return false;
  }, what, { intervalMs: 20 });
}

const job = () => `job-${randomUUID()}`;

interface Binding {
  source_name: string;
  destination_name: string;
  routing_key: string;
}

/** Routing keys bound from the notices exchange to the listening queues of this process. */
async function noticeBindings(): Promise<string[]> {
  const { stdout } = await rabbitmqctl(
    'list_bindings', '-p', broker.vhost().name, 'source_name', 'destination_name', 'routing_key', '--formatter', 'json',
  );
  return (JSON.parse(stdout) as Binding[])
    .filter((b) => b.source_name === Topology.noticesExchange && ownQueue(Topology.noticesExchange)(b.destination_name))
    .map((b) => b.routing_key)
    .sort();
}

const ownNoticeQueues = async () => (await broker.listQueues()).filter((q) => ownQueue(Topology.noticesExchange)(q.name));

describe('RabbitMqJobNoticeBus', () => {
  it('delivers notices to the listeners of their job only, binding each job while it has listeners', async () => {
    const gateway = openBus('gateway');
    const runner = openBus('runner');
    const [a, b, c] = [job(), job(), job()];
    const onA = recorder<JobNotice>();
    const onC = recorder<JobNotice>();

    const stopA = gateway.listen(a, onA.record);
    const stopC = gateway.listen(c, onC.record);
    // B first: were it routed to the gateway, it would arrive before A's and C's from the same channel.
    await notifyUntil(
      runner,
      [{ jobId: b, what: 'output' }, { jobId: c, what: 'status' }, { jobId: a, what: 'events' }],
      () => onA.seen.length > 0 && onC.seen.length > 0,
      'notices for A and C',
    );

    expect(new Set(onA.seen.map((n) => JSON.stringify(n)))).toEqual(new Set([JSON.stringify({ jobId: a, what: 'events' })]));
    expect(onC.seen.every((n) => n.jobId === c && n.what === 'status')).toBe(true);
    // The broker sends this process only the jobs it listens to, not every job's notices.
    expect(await noticeBindings()).toEqual([jobNoticeRoutingKey(a), jobNoticeRoutingKey(c)].sort());

    stopA();
    await eventually(async () => (await noticeBindings()).length === 1, 'the binding of A to go');
    expect(await noticeBindings()).toEqual([jobNoticeRoutingKey(c)]);
    stopC();
    await eventually(async () => (await noticeBindings()).length === 0, 'the binding of C to go');
  });

  it('tells every listener of a job; one that unsubscribed hears nothing more, one that throws hurts no other', async () => {
    const gateway = openBus('gateway');
    const runner = openBus('runner');
    const a = job();
    const first = recorder<JobNotice>();
    const second = recorder<JobNotice>();
    const notice: JobNotice = { jobId: a, what: 'output' };

    gateway.listen(a, () => {
      throw new Error('a broken listener');
    });
    const stopFirst = gateway.listen(a, first.record);
    const stopSecond = gateway.listen(a, second.record);
    await notifyUntil(runner, [notice], () => first.seen.length > 0 && second.seen.length > 0, 'both listeners');

    stopFirst();
    stopFirst(); // idempotent
    const firstHeard = first.seen.length;
    const secondHeard = second.seen.length;
    await notifyUntil(runner, [notice], () => second.seen.length > secondHeard, 'the remaining listener');
    expect(first.seen.length).toBe(firstHeard);

    // The last listener leaving unbinds the job; a new one binds it again.
    stopSecond();
    const third = recorder<JobNotice>();
    gateway.listen(a, third.record);
    await notifyUntil(runner, [notice], () => third.seen.length > 0, 'a listener after the job was unbound');
    expect(third.seen[0]).toEqual(notice);
  });

  it('publishes small transient notices routed by job, and declares a durable topic exchange', async () => {
    const runner = openBus('runner');
    const a = job();
    const { channel, queue } = await broker.tap(Topology.noticesExchange, 'topic', jobNoticeRoutingKey(a));

    let message: amqplib.GetMessage | undefined;
    await eventually(async () => {
      runner.notify({ jobId: a, what: 'status' });
      message = (await channel.get(queue, { noAck: true })) || undefined;
      return message !== undefined;
    }, 'a notice');
    if (!message) throw new Error('unreachable');
    expect(message.fields.routingKey).toBe(jobNoticeRoutingKey(a));
    expect(message.properties.deliveryMode).not.toBe(2);
    expect(JSON.parse(message.content.toString())).toEqual({ jobId: a, what: 'status' });

    expect(await broker.listExchanges()).toContainEqual({ name: Topology.noticesExchange, type: 'topic', durable: true });
  });

  it('gives each process one exclusive, auto-delete notice queue, named after the process', async () => {
    const gateway = openBus('gateway');
    gateway.listen(job(), () => undefined);
    gateway.listen(job(), () => undefined);

    await eventually(async () => (await ownNoticeQueues()).length === 1, 'the queue');
    const queues = await ownNoticeQueues();
    expect(queues).toHaveLength(1);
    for (const queue of queues) expect(queue).toMatchObject({ durable: false, auto_delete: true, exclusive: true });

    await broker.closeAll();
    await eventually(async () => (await ownNoticeQueues()).length === 0, 'the queue to go with its connection');
  });

  it('with the broker unreachable: notify drops silently, nothing hangs', async () => {
    const bus = openBus('offline', { url: 'amqp://guest:guest@127.0.0.1:1/' });

    expect(() => bus.notify({ jobId: 'x', what: 'output' })).not.toThrow();
    const stop = bus.listen('x', () => undefined);
    for (let i = 0; i < 10_000; i++) bus.notify({ jobId: 'x', what: 'output' });
    expect(bus.canNotify).toBe(false);
    stop();

    await bus.close();
    await bus.close(); // idempotent
  });

  it('once closed: notify and listen do nothing', async () => {
    const bus = openBus('closed');
    await eventually(() => bus.canNotify, 'the publishing channel');
    await bus.close();

    expect(bus.canNotify).toBe(false);
    expect(() => bus.notify({ jobId: 'x', what: 'status' })).not.toThrow();
    expect(() => bus.listen('x', () => undefined)()).not.toThrow();
  });

  it('after a broker outage: rebinds every listened job, and never replays dropped notices', async () => {
    const [gatewayLink, runnerLink] = [await broker.proxy(), await broker.proxy()];
    const gateway = openBus('gateway', { url: broker.vhost().url(gatewayLink.port) });
    const runner = openBus('runner', { url: broker.vhost().url(runnerLink.port) });
    const probe = openBus('probe'); // a direct connection, never cut
    const [a, dropped, later] = [job(), job(), job()];
    const onA = recorder<JobNotice>();
    const onDropped = recorder<JobNotice>();
    const onLater = recorder<JobNotice>();
    gateway.listen(a, onA.record);
    gateway.listen(dropped, onDropped.record);
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > 0, 'a first notice');

    // The runner loses the broker: what it sends meanwhile is dropped, not kept for later.
    await runnerLink.stop();
    await eventually(() => !runner.canNotify, 'the runner to see the outage');
    for (let i = 0; i < 5; i++) expect(() => runner.notify({ jobId: dropped, what: 'status' })).not.toThrow();
    // The gateway too, and it starts listening to another job while down.
    await gatewayLink.stop();
    gateway.listen(later, onLater.record);

    await gatewayLink.start();
    const heardBefore = onA.seen.length;
    await notifyUntil(probe, [{ jobId: a, what: 'events' }], () => onA.seen.length > heardBefore, 'the gateway to rebind A');
    await runnerLink.start();
    await notifyUntil(runner, [{ jobId: later, what: 'status' }], () => onLater.seen.length > 0, 'the runner and the new binding');
    // Anything the runner had kept would have gone out on reconnect, before the notices above.
    expect(onDropped.seen).toEqual([]);

  });

  it('rebuilds its listening queue when it is deleted under it', async () => {
    const gateway = openBus('gateway');
    const runner = openBus('runner');
    const a = job();
    const onA = recorder<JobNotice>();
    gateway.listen(a, onA.record);
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > 0, 'a first notice');

    const [original] = await ownNoticeQueues();
    // An exclusive queue: only its own connection or an operator may delete it.
    await rabbitmqctl('delete_queue', '-p', broker.vhost().name, original.name);

    const heardBefore = onA.seen.length;
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > heardBefore, 'a notice after recovery');
    const names = (await broker.listQueues()).map((q) => q.name);
    expect(names).not.toContain(original.name);
  });
});
