import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, FlansibleConfig, configWith } from '@flansible/config';
import { eventually } from '@flansible/testing';
import { InProcessJobCancelBus } from './in-process-job-cancel-bus';
import { InProcessJobNoticeBus } from './in-process-job-notice-bus';
import { InProcessJobQueue } from './in-process-job-queue';
import { CancelRequest, JobCancelBus } from './job-cancel-bus';
import { JobNoticeBus } from './job-notice-bus';
import { JobQueue, QueueUnavailableError } from './job-queue';
import { QueueModule } from './queue.module';
import { RabbitMqJobCancelBus } from './rabbitmq-job-cancel-bus';
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

// Two sides of one embedded app, as GatewayModule and ExecutionModule are: neither imports the
// queue; the app's root imports QueueModule once and both get its (global) ports.
@Injectable()
class Submitter {
  constructor(
    @Inject(JobQueue) readonly queue: JobQueue,
    @Inject(JobNoticeBus) readonly notices: JobNoticeBus,
    @Inject(JobCancelBus) readonly cancels: JobCancelBus,
  ) {}
}
@Module({ providers: [Submitter], exports: [Submitter] })
class GatewaySide {}

@Injectable()
class Worker {
  constructor(
    @Inject(JobQueue) readonly queue: JobQueue,
    @Inject(JobNoticeBus) readonly notices: JobNoticeBus,
    @Inject(JobCancelBus) readonly cancels: JobCancelBus,
  ) {}
}
@Module({ providers: [Worker], exports: [Worker] })
class RunnerSide {}

/** An embedded app: one QueueModule, its ports shared by both sides. */
function embeddedApp() {
  return Test.createTestingModule({
    imports: [ConfigModule.forRoot(config(null)), QueueModule.forRoot({ role: 'embedded' }), GatewaySide, RunnerSide],
  }).compile();
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

describe('QueueModule', () => {
  it('embedded: gateway and runner share one in-process queue, closed with the app', async () => {
    const app = await embeddedApp();
    await app.init();

    const submitter = app.get(Submitter);
    const worker = app.get(Worker);
    expect(submitter.queue).toBeInstanceOf(InProcessJobQueue);
    expect(worker.queue).toBe(submitter.queue);
    expect(app.get(JobQueue)).toBe(submitter.queue);

    await app.close();
    await expect(submitter.queue.publish({} as never)).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('embedded: gateway and runner share one in-process notice bus and one cancel bus, closed with the app', async () => {
    const app = await embeddedApp();
    await app.init();

    const gateway = app.get(Submitter);
    const runner = app.get(Worker);
    expect(gateway.notices).toBeInstanceOf(InProcessJobNoticeBus);
    expect(runner.notices).toBe(gateway.notices);
    expect(app.get(JobNoticeBus)).toBe(gateway.notices);
    expect(gateway.cancels).toBeInstanceOf(InProcessJobCancelBus);
    expect(runner.cancels).toBe(gateway.cancels);
    // The gateway's cancel reaches the runner's handler, through the one shared bus.
    const cancels: CancelRequest[] = [];
    await runner.cancels.onCancel((request) => cancels.push(request));
    await gateway.cancels.requestCancel({ jobId: 'a', reason: 'test' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancels).toEqual([{ jobId: 'a', reason: 'test' }]);

    await app.close();
    await expect(gateway.cancels.requestCancel({ jobId: 'a', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('builds its own in-process ports per app: two embedded apps never meet', async () => {
    const [first, second] = await Promise.all([embeddedApp(), embeddedApp()]);
    expect(second.get(JobQueue)).not.toBe(first.get(JobQueue));
    expect(second.get(JobNoticeBus)).not.toBe(first.get(JobNoticeBus));
    expect(second.get(JobCancelBus)).not.toBe(first.get(JobCancelBus));
    await Promise.all([first.close(), second.close()]);
  });

  it('distributed: provides the RabbitMQ queue, and the app closes even with the broker unreachable', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config('amqp://guest:guest@127.0.0.1:1/')), QueueModule.forRoot({ role: 'runner' })],
    }).compile();
    await app.init();

    const queue = app.get(JobQueue);
    const notices = app.get(JobNoticeBus);
    const cancels = app.get(JobCancelBus);
    expect(queue).toBeInstanceOf(RabbitMqJobQueue);
    expect(notices).toBeInstanceOf(RabbitMqJobNoticeBus);
    expect(cancels).toBeInstanceOf(RabbitMqJobCancelBus);

    await app.close();
    await expect(queue.publish({} as never)).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(cancels.requestCancel({ jobId: 'a', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  describe('with a broker', () => {
    let vhost: ThrowawayVhost;
    beforeAll(async () => {
      vhost = await createThrowawayVhost('queue-module-spec');
    });
    afterAll(() => vhost?.remove());

    it('names each connection after the role, host and pid', async () => {
      const app = await Test.createTestingModule({
        imports: [ConfigModule.forRoot(config(vhost.url())), QueueModule.forRoot({ role: 'runner' })],
      }).compile();
      try {
        await app.get(JobCancelBus).onCancel(() => undefined); // resolves once connected and subscribed
        app.get(JobNoticeBus).listen('a', () => undefined);
        app.get(JobQueue); // connects at once, for its publishing channel
        const names = await eventually(async () => {
          const { stdout } = await rabbitmqctl('list_connections', 'vhost', 'client_properties', '--formatter', 'json');
          const ours = JSON.stringify((JSON.parse(stdout) as Array<{ vhost: string }>).filter((c) => c.vhost === vhost.name));
          return ['', '-notices', '-control'].every((suffix) => ours.includes(`flansible-runner${suffix}@${hostname()}:${process.pid}`)) && ours;
        }, 'the three connections of the runner');
        expect(names).toContain(`"flansible-runner@${hostname()}:${process.pid}"`);
      } finally {
        await app.close();
      }
    });
  });
});
