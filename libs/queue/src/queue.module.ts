import { hostname } from 'node:os';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobQueue } from './job-queue';
import { InProcessJobQueue } from './in-process-job-queue';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';

/**
 * Which app holds the queue: names the connection in the RabbitMQ management UI and stamps `appId`.
 * `embedded` is the single process hosting both gateway and runner.
 */
export type QueueRole = 'gateway' | 'runner' | 'embedded';

export interface QueueModuleOptions {
  role: QueueRole;
}

/**
 * The in-process queue is the meeting point of gateway and runner in the embedded deployment, so
 * there must be exactly one per configuration even if both sides build one (e.g. a GatewayModule and
 * a RunnerModule that each import QueueModule.forRoot with their own role).
 */
const inProcessQueues = new WeakMap<FlansibleConfig, InProcessJobQueue>();

/**
 * The job queue for this deployment: RabbitMQ when `amqpUrl` is set, otherwise the in-process
 * queue shared by everything built from the same config object. Usable outside Nest (scripts, tests).
 */
export function createJobQueue(config: FlansibleConfig, role: QueueRole): JobQueue {
  if (!config.amqpUrl) {
    let queue = inProcessQueues.get(config);
    if (!queue) {
      queue = new InProcessJobQueue();
      inProcessQueues.set(config, queue);
    }
    return queue;
  }
  const appName = `flansible-${role}`;
  return new RabbitMqJobQueue({
    url: config.amqpUrl,
    publishTimeoutMs: config.publishTimeoutMs,
    connectionName: `${appName}@${hostname()}:${process.pid}`,
    appId: appName,
  });
}

/**
 * Provides `JobQueue` app-wide (global), built from the injected FlansibleConfig, and closes it when
 * the app shuts down. Import once from the app's root module:
 * `QueueModule.forRoot({ role: 'gateway' })`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(@Inject(JobQueue) private readonly queue: JobQueue) {}

  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      providers: [
        {
          provide: JobQueue,
          useFactory: (config: FlansibleConfig) => createJobQueue(config, options.role),
          inject: [FlansibleConfig],
        },
      ],
      exports: [JobQueue],
    };
  }

  /** Last of the shutdown hooks: the HTTP server has stopped taking jobs by then. Idempotent. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
