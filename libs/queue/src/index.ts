// The job bus and the notice bus: two ports (JobQueue, JobNoticeBus, also the DI tokens), each with a
// RabbitMQ and an in-process adapter, and one Nest module providing both.
export { JobQueue, QueueUnavailableError } from './job-queue';
export { JobQueueServer, JobDeliveryContext } from './job-queue.server';
export type { JobHandler, DeliveryInfo } from './job-queue';
export { RabbitMqJobQueue } from './rabbitmq-job-queue';
export type { RabbitMqJobQueueOptions } from './rabbitmq-job-queue';
export { InProcessJobQueue } from './in-process-job-queue';
export * from './job-notice-bus';
export { RabbitMqJobNoticeBus } from './rabbitmq-job-notice-bus';
export type { RabbitMqJobNoticeBusOptions } from './rabbitmq-job-notice-bus';
export { InProcessJobNoticeBus } from './in-process-job-notice-bus';
export { declareJobTopology, declareNoticeTopology, declareRetryTopology, jobsQueueArguments, retryQueueArguments } from './rabbitmq-topology';
export { HeldDeliveries, InProcessJobQueueStats, JobQueueStats } from './job-queue-stats';
export type { QueueDepth } from './job-queue-stats';
export { RabbitMqJobQueueStats } from './rabbitmq-job-queue-stats';
export type { RabbitMqJobQueueStatsOptions } from './rabbitmq-job-queue-stats';
export { QueueModule, createJobQueue, createJobNoticeBus, createJobQueueStats } from './queue.module';
export type { QueueModuleOptions, QueueRole } from './queue.module';
