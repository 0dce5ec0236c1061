// The job bus: one port (JobQueue, also the DI token), two adapters, one Nest module.
export { JobQueue, QueueUnavailableError } from './job-queue';
export type { JobHandler, DeliveryInfo } from './job-queue';
export { RabbitMqJobQueue } from './rabbitmq-job-queue';
export type { RabbitMqJobQueueOptions } from './rabbitmq-job-queue';
export { InProcessJobQueue } from './in-process-job-queue';
export { declareJobTopology, jobsQueueArguments } from './rabbitmq-topology';
export { QueueModule, createJobQueue } from './queue.module';
export type { QueueModuleOptions, QueueRole } from './queue.module';
