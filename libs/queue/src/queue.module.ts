import { hostname } from 'node:os';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobQueue } from './job-queue';
import { InProcessJobQueue } from './in-process-job-queue';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';
import { JobNoticeBus } from './job-notice-bus';
import { InProcessJobNoticeBus } from './in-process-job-notice-bus';
import { RabbitMqJobNoticeBus } from './rabbitmq-job-notice-bus';
import { JobCancelBus } from './job-cancel-bus';
import { InProcessJobCancelBus } from './in-process-job-cancel-bus';
import { RabbitMqJobCancelBus } from './rabbitmq-job-cancel-bus';
import { HeldDeliveries, InProcessJobQueueStats, JobQueueStats } from './job-queue-stats';
import { RabbitMqJobQueueStats } from './rabbitmq-job-queue-stats';

/**
 * Which app holds the queue: names the connections in the RabbitMQ management UI and stamps `appId`.
 * `embedded` is the single process hosting both gateway and runner.
 */
export type QueueRole = 'gateway' | 'runner' | 'embedded';

export interface QueueModuleOptions {
  role: QueueRole;
}

/**
 * Provides the three ports app-wide (global) — `JobQueue`, `JobNoticeBus`, `JobCancelBus` — with
 * `JobQueueStats` and `HeldDeliveries` for the metrics, and closes them when the app shuts down.
 * RabbitMQ adapters when the injected FlansibleConfig has an `amqpUrl` (a connection each, named
 * `flansible-<role>[-notices|-control|-stats]@host:pid` in the management UI), in-process ones
 * otherwise: then this module's single instances are where gateway and runner meet, so an app
 * imports it once, from its root module: `QueueModule.forRoot({ role: 'gateway' })`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobNoticeBus) private readonly notices: JobNoticeBus,
    @Inject(JobCancelBus) private readonly cancels: JobCancelBus,
    @Inject(JobQueueStats) private readonly stats: JobQueueStats,
  ) {}

  static forRoot({ role }: QueueModuleOptions): DynamicModule {
    const appId = `flansible-${role}`;
    /** `<app>[-<suffix>]@host:pid`, as the connection is listed in the management UI. */
    const connectionName = (suffix?: string): string => `${appId}${suffix ? `-${suffix}` : ''}@${hostname()}:${process.pid}`;
    return {
      module: QueueModule,
      providers: [
        {
          provide: JobQueue,
          inject: [FlansibleConfig],
          useFactory: ({ amqpUrl, publishTimeoutMs }: FlansibleConfig): JobQueue =>
            amqpUrl
              ? new RabbitMqJobQueue({ url: amqpUrl, publishTimeoutMs, connectionName: connectionName(), appId })
              : new InProcessJobQueue(),
        },
        {
          provide: JobNoticeBus,
          inject: [FlansibleConfig],
          useFactory: ({ amqpUrl }: FlansibleConfig): JobNoticeBus =>
            amqpUrl
              ? new RabbitMqJobNoticeBus({ url: amqpUrl, connectionName: connectionName('notices'), appId })
              : new InProcessJobNoticeBus(),
        },
        {
          provide: JobCancelBus,
          inject: [FlansibleConfig],
          useFactory: ({ amqpUrl, publishTimeoutMs }: FlansibleConfig): JobCancelBus =>
            amqpUrl
              ? new RabbitMqJobCancelBus({ url: amqpUrl, requestTimeoutMs: publishTimeoutMs, connectionName: connectionName('control'), appId })
              : new InProcessJobCancelBus(),
        },
        HeldDeliveries,
        {
          // The broker's counts (a connection opened at the first scrape), or the in-process queue's.
          provide: JobQueueStats,
          inject: [FlansibleConfig, JobQueue, HeldDeliveries],
          useFactory: ({ amqpUrl }: FlansibleConfig, queue: JobQueue, held: HeldDeliveries): JobQueueStats =>
            amqpUrl
              ? new RabbitMqJobQueueStats({ url: amqpUrl, connectionName: connectionName('stats') }, held)
              : new InProcessJobQueueStats(queue as InProcessJobQueue, held),
        },
      ],
      exports: [JobQueue, JobNoticeBus, JobCancelBus, JobQueueStats, HeldDeliveries],
    };
  }

  /** Last of the shutdown hooks: the HTTP server has stopped taking jobs by then. Idempotent. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.queue.close(), this.notices.close(), this.cancels.close(), this.stats.close()]);
  }
}
