import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, FlansibleConfig, configWith } from '@flansible/config';
import { InProcessJobNoticeBus } from './in-process-job-notice-bus';
import { InProcessJobQueue } from './in-process-job-queue';
import { CancelRequest, JobNoticeBus } from './job-notice-bus';
import { JobQueue, QueueUnavailableError } from './job-queue';
import { QueueModule, createJobNoticeBus, createJobQueue } from './queue.module';
import { RabbitMqJobNoticeBus } from './rabbitmq-job-notice-bus';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';
import { ThrowawayVhost, createThrowawayVhost, rabbitmqctl } from './testing/throwaway-vhost';

function config(amqpUrl: string | null): FlansibleConfig {
  return configWith({
    host: '127.0.0.1',
    port: 3000,
    rbacFile: '/tmp/rbac.json',
    playbookRoot: '/tmp/playbooks',
    inventoryRoot: '/tmp/inventories',
    defaultInventory: 'localhost',
    vaultRoot: '/tmp/vault',
    dataDir: '/tmp/data',
    amqpUrl,
    databaseUrl: null,
    taskTimeoutSeconds: 3600,
    runnerConcurrency: 2,
    publishTimeoutMs: 1000,
  });
}

@Injectable()
class Submitter {
  constructor(
    @Inject(JobQueue) readonly queue: JobQueue,
    @Inject(JobNoticeBus) readonly notices: JobNoticeBus,
  ) {}
}
@Module({ imports: [QueueModule.forRoot({ role: 'gateway' })], providers: [Submitter], exports: [Submitter] })
class GatewaySide {}

@Injectable()
class Worker {
  constructor(
    @Inject(JobQueue) readonly queue: JobQueue,
    @Inject(JobNoticeBus) readonly notices: JobNoticeBus,
  ) {}
}
@Module({ imports: [QueueModule.forRoot({ role: 'runner' })], providers: [Worker], exports: [Worker] })
class RunnerSide {}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

describe('QueueModule', () => {
  it('embedded: gateway and runner share one in-process queue, closed with the app', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config(null)), GatewaySide, RunnerSide],
    }).compile();
    await app.init();

    const submitter = app.get(Submitter);
    const worker = app.get(Worker);
    expect(submitter.queue).toBeInstanceOf(InProcessJobQueue);
    expect(worker.queue).toBe(submitter.queue);
    expect(app.get(JobQueue)).toBe(submitter.queue);

    await app.close();
    await expect(submitter.queue.publish({} as never)).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('embedded: gateway and runner share one in-process notice bus, closed with the app', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config(null)), GatewaySide, RunnerSide],
    }).compile();
    await app.init();

    const gateway = app.get(Submitter).notices;
    const runner = app.get(Worker).notices;
    expect(gateway).toBeInstanceOf(InProcessJobNoticeBus);
    expect(runner).toBe(gateway);
    expect(app.get(JobNoticeBus)).toBe(gateway);
    // The gateway's cancel reaches the runner's handler, through the one shared bus.
    const cancels: CancelRequest[] = [];
    await runner.onCancel((request) => cancels.push(request));
    await gateway.requestCancel({ jobId: 'a', reason: 'test' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancels).toEqual([{ jobId: 'a', reason: 'test' }]);

    await app.close();
    await expect(gateway.requestCancel({ jobId: 'a', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('distributed: provides the RabbitMQ queue, and the app closes even with the broker unreachable', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config('amqp://guest:guest@127.0.0.1:1/')), QueueModule.forRoot({ role: 'runner' })],
    }).compile();
    await app.init();

    const queue = app.get(JobQueue);
    const notices = app.get(JobNoticeBus);
    expect(queue).toBeInstanceOf(RabbitMqJobQueue);
    expect(notices).toBeInstanceOf(RabbitMqJobNoticeBus);

    await app.close();
    await expect(queue.publish({} as never)).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(notices.requestCancel({ jobId: 'a', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});

describe('createJobQueue', () => {
  it('returns the same in-process queue for the same configuration, another for another', async () => {
    const embedded = config(null);
    const queue = createJobQueue(embedded, 'gateway');
    expect(createJobQueue(embedded, 'runner')).toBe(queue);
    expect(createJobQueue(config(null), 'runner')).not.toBe(queue);
  });

  it('returns a RabbitMQ queue when a broker URL is configured', async () => {
    const queue = createJobQueue(config('amqp://guest:guest@127.0.0.1:1/'), 'gateway');
    try {
      expect(queue).toBeInstanceOf(RabbitMqJobQueue);
    } finally {
      await queue.close();
    }
  });
});

describe('createJobNoticeBus', () => {
  it('returns the same in-process bus for the same configuration, another for another', () => {
    const embedded = config(null);
    const bus = createJobNoticeBus(embedded, 'gateway');
    expect(bus).toBeInstanceOf(InProcessJobNoticeBus);
    expect(createJobNoticeBus(embedded, 'runner')).toBe(bus);
    expect(createJobNoticeBus(config(null), 'runner')).not.toBe(bus);
  });

  describe('with a broker', () => {
    let vhost: ThrowawayVhost;
    beforeAll(async () => {
      vhost = await createThrowawayVhost('queue-module-spec');
    });
    afterAll(() => vhost?.remove());

    it('returns a RabbitMQ bus on a connection named after the role, host and pid', async () => {
      const bus = createJobNoticeBus(config(vhost.url()), 'runner');
      try {
        expect(bus).toBeInstanceOf(RabbitMqJobNoticeBus);
        await bus.onCancel(() => undefined); // resolves once connected and subscribed
        const { stdout } = await rabbitmqctl('list_connections', 'vhost', 'client_properties', '--formatter', 'json');
        const ours = (JSON.parse(stdout) as Array<{ vhost: string }>).filter((c) => c.vhost === vhost.name);
        expect(JSON.stringify(ours)).toContain(`flansible-runner-notices@${hostname()}:${process.pid}`);
      } finally {
        await bus.close();
      }
    });
  });
});
