import { hostname } from 'node:os';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobQueue } from './job-queue';
import { InProcessJobQueue } from './in-process-job-queue';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';
import { JobNoticeBus } from './job-notice-bus';
import { InProcessJobNoticeBus } from './in-process-job-notice-bus';
import { RabbitMqJobNoticeBus } from './rabbitmq-job-notice-bus';
import { HeldDeliveries, InProcessJobQueueStats, JobQueueStats } from './job-queue-stats';
import { RabbitMqJobQueueStats } from './rabbitmq-job-queue-stats';

/**
 * Which app holds the queue: names the connection in the RabbitMQ management UI and stamps `appId`.
 * `embedded` is the single process hosting both gateway and runner.
 */
export type QueueRole = 'gateway' | 'runner' | 'embedded';

export interface QueueModuleOptions {
  role: QueueRole;
}

/**
 * The in-process adapters are the meeting point of gateway and runner in the embedded deployment, so
 * there must be exactly one of each per configuration even if both sides build one (e.g. a
 * GatewayModule and a RunnerModule that each import QueueModule.forRoot with their own role).
 */
function onePerConfig<T extends object>(create: () => T): (config: FlansibleConfig) => T {
  const instances = new WeakMap<FlansibleConfig, T>();
  return (config) => {
    let instance = instances.get(config);
    if (!instance) {
      instance = create();
      instances.set(config, instance);
    }
    return instance;
  };
}

const inProcessQueueFor = onePerConfig(() => new InProcessJobQueue());
/** The runner's notices and the gateway's cancels meet there. */
const inProcessNoticeBusFor = onePerConfig(() => new InProcessJobNoticeBus());

/** `flansible-<role>`: the `appId` of what this app publishes. */
const appNameOf = (role: QueueRole): string => `flansible-${role}`;

/** `<name>@host:pid`, as the connection is listed in the management UI. */
const connectionNameOf = (name: string): string => `${name}@${hostname()}:${process.pid}`;

/**
 * The job queue for this deployment: RabbitMQ when `amqpUrl` is set, otherwise the in-process
 * queue shared by everything built from the same config object. Usable outside Nest (scripts, tests).
 */
export function createJobQueue(config: FlansibleConfig, role: QueueRole): JobQueue {
  if (!config.amqpUrl) return inProcessQueueFor(config);
  return new RabbitMqJobQueue({
    url: config.amqpUrl,
    publishTimeoutMs: config.publishTimeoutMs,
    connectionName: connectionNameOf(appNameOf(role)),
    appId: appNameOf(role),
  });
}

/**
 * The notice bus for this deployment: RabbitMQ when `amqpUrl` is set (a connection of its own, named
 * `flansible-<role>-notices@host:pid` in the management UI), otherwise the in-process bus shared by
 * everything built from the same config object. Usable outside Nest (scripts, tests).
 */
export function createJobNoticeBus(config: FlansibleConfig, role: QueueRole): JobNoticeBus {
  if (!config.amqpUrl) return inProcessNoticeBusFor(config);
  return new RabbitMqJobNoticeBus({
    url: config.amqpUrl,
    requestTimeoutMs: config.publishTimeoutMs,
    connectionName: connectionNameOf(`${appNameOf(role)}-notices`),
    appId: appNameOf(role),
  });
}

/**
 * The queue counts for the metrics: the broker's (a connection of its own, opened at the first
 * scrape, named `flansible-<role>-stats@host:pid`) or the in-process queue's of this configuration.
 */
export function createJobQueueStats(config: FlansibleConfig, role: QueueRole, held: HeldDeliveries): JobQueueStats {
  if (!config.amqpUrl) return new InProcessJobQueueStats(inProcessQueueFor(config), held);
  return new RabbitMqJobQueueStats({ url: config.amqpUrl, connectionName: connectionNameOf(`${appNameOf(role)}-stats`) }, held);
}

/**
 * Provides `JobQueue` and `JobNoticeBus` app-wide (global), built from the injected FlansibleConfig,
 * with `JobQueueStats` and `HeldDeliveries` for the metrics, and closes them when the app shuts
 * down. Import once from the app's root module: `QueueModule.forRoot({ role: 'gateway' })`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(JobQueue) private readonly queue: JobQueue,
    @Inject(JobNoticeBus) private readonly noticeBus: JobNoticeBus,
    @Inject(JobQueueStats) private readonly stats: JobQueueStats,
  ) {}

  static forRoot(options: QueueModuleOptions): DynamicModule {
    return {
      module: QueueModule,
      providers: [
        {
          provide: JobQueue,
          useFactory: (config: FlansibleConfig) => createJobQueue(config, options.role),
          inject: [FlansibleConfig],
        },
        {
          provide: JobNoticeBus,
          useFactory: (config: FlansibleConfig) => createJobNoticeBus(config, options.role),
          inject: [FlansibleConfig],
        },
        HeldDeliveries,
        {
          provide: JobQueueStats,
          useFactory: (config: FlansibleConfig, held: HeldDeliveries) => createJobQueueStats(config, options.role, held),
          inject: [FlansibleConfig, HeldDeliveries],
        },
      ],
      exports: [JobQueue, JobNoticeBus, JobQueueStats, HeldDeliveries],
    };
  }

  /** Last of the shutdown hooks: the HTTP server has stopped taking jobs by then. Idempotent. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.queue.close(), this.noticeBus.close(), this.stats.close()]);
  }
}
