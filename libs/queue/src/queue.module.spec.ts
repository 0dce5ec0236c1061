import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, FlansibleConfig, configWith } from '@flansible/config';
import { InProcessJobQueue } from './in-process-job-queue';
import { JobQueue, QueueUnavailableError } from './job-queue';
import { QueueModule, createJobQueue } from './queue.module';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';

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
  constructor(@Inject(JobQueue) readonly queue: JobQueue) {}
}
@Module({ imports: [QueueModule.forRoot({ role: 'gateway' })], providers: [Submitter], exports: [Submitter] })
class GatewaySide {}

@Injectable()
class Worker {
  constructor(@Inject(JobQueue) readonly queue: JobQueue) {}
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

  it('distributed: provides the RabbitMQ queue, and the app closes even with the broker unreachable', async () => {
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config('amqp://guest:guest@127.0.0.1:1/')), QueueModule.forRoot({ role: 'runner' })],
    }).compile();
    await app.init();

    const queue = app.get(JobQueue);
    expect(queue).toBeInstanceOf(RabbitMqJobQueue);

    await app.close();
    await expect(queue.publish({} as never)).rejects.toBeInstanceOf(QueueUnavailableError);
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
