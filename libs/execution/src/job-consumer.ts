import { INestApplication, Logger } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { HeldDeliveries, JobQueue, JobQueueServer } from '@flansible/queue';
import { JobRunnerService } from './job-runner.service';

/**
 * Connects the job handler (JobMessageController) to the app's job queue and starts consuming.
 * The runner app and the embedded gateway call it after `app.init()`, so the runner's start checks
 * and its cancel subscription are in place before the first message arrives.
 */
export async function startJobConsumer(app: INestApplication): Promise<void> {
  const { runnerConcurrency } = app.get(FlansibleConfig);
  // Not inheritAppConfig: the gateway's global filter and pipe are written for HTTP.
  app.connectMicroservice({ strategy: new JobQueueServer(app.get(JobQueue), runnerConcurrency, heldDeliveriesOf(app)) });
  await app.startAllMicroservices();
  new Logger('JobConsumer').log(`Runner ${app.get(JobRunnerService).runnerId} consuming jobs, ${runnerConcurrency} at a time`);
}

/** QueueModule's count of held deliveries (the metrics' unacked); none where an app brings its own queue ports (specs). */
function heldDeliveriesOf(app: INestApplication): HeldDeliveries | undefined {
  try {
    return app.get(HeldDeliveries);
  } catch {
    return undefined;
  }
}
