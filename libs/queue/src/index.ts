// Three ports (also the DI tokens), each with a RabbitMQ and an in-process adapter, and one Nest
// module providing them: JobQueue (the jobs), JobNoticeBus (live notices), JobCancelBus (cancel
// requests); JobQueueStats reads the queue depths for the metrics.
export { JobQueue, QueueUnavailableError } from './job-queue';
export { JobQueueServer, JobDeliveryContext } from './job-queue.server';
export type { JobHandler, DeliveryInfo } from './job-queue';
export { RabbitMqJobQueue } from './rabbitmq-job-queue';
export type { RabbitMqJobQueueOptions } from './rabbitmq-job-queue';
export { InProcessJobQueue } from './in-process-job-queue';
export { JobNoticeBus } from './job-notice-bus';
export { InProcessJobNoticeBus } from './in-process-job-notice-bus';
export { JobCancelBus } from './job-cancel-bus';
export { InProcessJobCancelBus } from './in-process-job-cancel-bus';
export type { CancelRequest } from './job-cancel-bus';
export { declareJobTopology, declareRetryTopology, jobsQueueArguments, retryQueueArguments } from './rabbitmq-topology';
export { HeldDeliveries, InProcessJobQueueStats, JobQueueStats } from './job-queue-stats';
export type { QueueDepth } from './job-queue-stats';
export { QueueModule } from './queue.module';
export type { QueueModuleOptions, QueueRole } from './queue.module';
