import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import amqplib from 'amqplib';
import { Logger } from '@nestjs/common';
import { JobNotice, Topology, jobNoticeRoutingKey } from '@flansible/contracts';
import { CancelRequest } from './job-notice-bus';
import { QueueUnavailableError } from './job-queue';
import { RabbitMqJobNoticeBus, RabbitMqJobNoticeBusOptions } from './rabbitmq-job-notice-bus';
import { BrokerProxy } from './testing/broker-proxy';
import { ThrowawayVhost, createThrowawayVhost, rabbitmqctl } from './testing/throwaway-vhost';

// Runs against the real broker on 127.0.0.1:5672, inside a throwaway vhost, so it can run beside
// any other suite. A "gateway" and a "runner" are two bus instances with connections of their own,
// as two processes would have.
jest.setTimeout(20_000);

let vhost: ThrowawayVhost;
let admin: Awaited<ReturnType<typeof amqplib.connect>>;
const openBuses: RabbitMqJobNoticeBus[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  vhost = await createThrowawayVhost('notice-spec');
  admin = await amqplib.connect(vhost.url());
  // Reconnect and recovery logs are expected noise here.
  Logger.overrideLogger(false);
});

afterEach(async () => {
  await Promise.all(openBuses.splice(0).map((bus) => bus.close()));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

afterAll(async () => {
  await admin?.close().catch(() => undefined);
  await vhost?.remove();
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
});

function openBus(role: string, overrides: Partial<RabbitMqJobNoticeBusOptions> = {}): RabbitMqJobNoticeBus {
  const bus = new RabbitMqJobNoticeBus({
    url: vhost.url(),
    requestTimeoutMs: 5000,
    connectionName: `flansible-notice-spec-${role}@${process.pid}`,
    reconnectSeconds: 0.2,
    channelRecoverySeconds: 0.2,
    ...overrides,
  });
  openBuses.push(bus);
  return bus;
}

async function proxy(): Promise<BrokerProxy> {
  const broker = await BrokerProxy.onFreePort();
  await broker.start();
  cleanups.push(() => broker.stop());
  return broker;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Sends `notices` in order, again and again, until `heard()`. listen() binds in the background, so
 * the first ones may go nowhere; notices are hints, so repeats are what a real runner does anyway.
 */
async function notifyUntil(bus: RabbitMqJobNoticeBus, notices: JobNotice[], heard: () => boolean, what: string) {
  await waitFor(() => {
    if (heard()) return true;
    for (const notice of notices) bus.notify(notice);
    return false;
  }, what);
}

function recorder<T>(): { seen: T[]; record: (value: T) => void } {
  const seen: T[] = [];
  return { seen, record: (value) => seen.push(value) };
}

const job = () => `job-${randomUUID()}`;

interface Binding {
  source_name: string;
  destination_name: string;
  routing_key: string;
}

/** The process queues of this spec (`<exchange>.<host>.<pid>.<random>`) for one exchange. */
const ownQueue = (exchange: string) => (name: string) => name.startsWith(`${exchange}.${hostname()}.${process.pid}.`);

/** Routing keys bound from the notices exchange to the listening queues of this process. */
async function noticeBindings(): Promise<string[]> {
  const { stdout } = await rabbitmqctl(
    'list_bindings', '-p', vhost.name, 'source_name', 'destination_name', 'routing_key', '--formatter', 'json',
  );
  return (JSON.parse(stdout) as Binding[])
    .filter((b) => b.source_name === Topology.noticesExchange && ownQueue(Topology.noticesExchange)(b.destination_name))
    .map((b) => b.routing_key)
    .sort();
}

interface QueueInfo {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
}

async function listQueues(): Promise<QueueInfo[]> {
  const { stdout } = await rabbitmqctl(
    'list_queues', '-p', vhost.name, 'name', 'durable', 'auto_delete', 'exclusive', '--formatter', 'json',
  );
  return JSON.parse(stdout) as QueueInfo[];
}

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
    await waitFor(async () => (await noticeBindings()).length === 1, 'the binding of A to go');
    expect(await noticeBindings()).toEqual([jobNoticeRoutingKey(c)]);
    stopC();
    await waitFor(async () => (await noticeBindings()).length === 0, 'the binding of C to go');
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

  it('publishes small transient notices routed by job, and declares durable signal exchanges', async () => {
    const runner = openBus('runner');
    const a = job();
    const channel = await admin.createChannel();
    await channel.assertExchange(Topology.noticesExchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    cleanups.push(async () => {
      await channel.deleteQueue(queue);
      await channel.close();
    });
    await channel.bindQueue(queue, Topology.noticesExchange, jobNoticeRoutingKey(a));

    let message: amqplib.GetMessage | undefined;
    await waitFor(async () => {
      runner.notify({ jobId: a, what: 'status' });
      message = (await channel.get(queue, { noAck: true })) || undefined;
      return message !== undefined;
    }, 'a notice');
    if (!message) throw new Error('unreachable');
    expect(message.fields.routingKey).toBe(jobNoticeRoutingKey(a));
    expect(message.properties.deliveryMode).not.toBe(2);
    expect(JSON.parse(message.content.toString())).toEqual({ jobId: a, what: 'status' });

    const { stdout } = await rabbitmqctl('list_exchanges', '-p', vhost.name, 'name', 'type', 'durable', '--formatter', 'json');
    const exchanges = JSON.parse(stdout) as Array<{ name: string; type: string; durable: boolean }>;
    expect(exchanges).toContainEqual({ name: Topology.noticesExchange, type: 'topic', durable: true });
    expect(exchanges).toContainEqual({ name: Topology.controlExchange, type: 'fanout', durable: true });
  });

  it('gives each process one exclusive, auto-delete queue per signal, named after the process', async () => {
    const gateway = openBus('gateway');
    const runner = openBus('runner');
    gateway.listen(job(), () => undefined);
    gateway.listen(job(), () => undefined);
    await runner.onCancel(() => undefined);
    const ownQueues = async () =>
      (await listQueues()).filter(
        (q) => ownQueue(Topology.noticesExchange)(q.name) || ownQueue(Topology.controlExchange)(q.name),
      );

    await waitFor(async () => (await ownQueues()).length === 2, 'both queues');
    const queues = await ownQueues();
    expect(queues.filter((q) => ownQueue(Topology.noticesExchange)(q.name))).toHaveLength(1);
    expect(queues.filter((q) => ownQueue(Topology.controlExchange)(q.name))).toHaveLength(1);
    for (const queue of queues) expect(queue).toMatchObject({ durable: false, auto_delete: true, exclusive: true });

    await Promise.all(openBuses.splice(0).map((bus) => bus.close()));
    await waitFor(async () => (await ownQueues()).length === 0, 'the queues to go with their connections');
  });

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

    await waitFor(() => heard.every((h) => h.seen.length === 1), 'every handler');
    for (const h of heard) expect(h.seen).toEqual([request]);
  });

  it('with the broker unreachable: notify drops silently, requestCancel fails fast, nothing hangs', async () => {
    const bus = openBus('offline', { url: 'amqp://guest:guest@127.0.0.1:1/', requestTimeoutMs: 3000 });
    const request: CancelRequest = { jobId: job(), reason: 'test' };

    expect(() => bus.notify({ jobId: 'x', what: 'output' })).not.toThrow();
    const stop = bus.listen('x', () => undefined);
    await expect(bus.requestCancel(request)).rejects.toBeInstanceOf(QueueUnavailableError);
    // Known to be down now: the failure names the cause instead of running into the timeout.
    await expect(bus.requestCancel(request)).rejects.toThrow(/cannot connect/);
    await bus.onCancel(() => undefined); // resolves: a runner starts without its broker
    for (let i = 0; i < 10_000; i++) bus.notify({ jobId: 'x', what: 'output' });
    stop();

    await bus.close();
    await bus.close(); // idempotent
  });

  it('once closed: notify and listen do nothing, requestCancel and onCancel reject', async () => {
    const bus = openBus('closed');
    await bus.onCancel(() => undefined);
    await bus.close();

    expect(() => bus.notify({ jobId: 'x', what: 'status' })).not.toThrow();
    expect(() => bus.listen('x', () => undefined)()).not.toThrow();
    await expect(bus.requestCancel({ jobId: 'x', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(bus.onCancel(() => undefined)).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('after a broker outage: rebinds every listened job, resubscribes to cancels, and never replays dropped notices', async () => {
    const [gatewayLink, runnerLink] = [await proxy(), await proxy()];
    const gateway = openBus('gateway', { url: vhost.url(gatewayLink.port) });
    const runner = openBus('runner', { url: vhost.url(runnerLink.port) });
    const probe = openBus('probe'); // a direct connection, never cut
    const [a, dropped, later] = [job(), job(), job()];
    const onA = recorder<JobNotice>();
    const onDropped = recorder<JobNotice>();
    const onLater = recorder<JobNotice>();
    const cancels = recorder<CancelRequest>();
    gateway.listen(a, onA.record);
    gateway.listen(dropped, onDropped.record);
    await runner.onCancel(cancels.record);
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > 0, 'a first notice');

    // The runner loses the broker: what it sends meanwhile is dropped, not kept for later.
    await runnerLink.stop();
    await waitFor(
      () => runner.requestCancel({ jobId: a, reason: 'probe' }).then(() => false, () => true),
      'the runner to see the outage',
    );
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

    const request: CancelRequest = { jobId: a, reason: 'after the outage' };
    await waitFor(async () => {
      await gateway.requestCancel(request);
      await sleep(50);
      return cancels.seen.length > 0;
    }, 'a cancel request to reach the runner again');
    expect(cancels.seen).toContainEqual(request);
  });

  it('rebuilds its listening queue when it is deleted under it', async () => {
    const gateway = openBus('gateway');
    const runner = openBus('runner');
    const a = job();
    const onA = recorder<JobNotice>();
    gateway.listen(a, onA.record);
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > 0, 'a first notice');

    const [original] = (await listQueues()).filter((q) => ownQueue(Topology.noticesExchange)(q.name));
    // An exclusive queue: only its own connection or an operator may delete it.
    await rabbitmqctl('delete_queue', '-p', vhost.name, original.name);

    const heardBefore = onA.seen.length;
    await notifyUntil(runner, [{ jobId: a, what: 'output' }], () => onA.seen.length > heardBefore, 'a notice after recovery');
    const names = (await listQueues()).map((q) => q.name);
    expect(names).not.toContain(original.name);
  });
});
