import { INestApplication, Logger } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { HeldDeliveries, JobQueue, JobQueueServer } from '@flansible/queue';
import { JobRunnerService } from './job-runner.service';
import { RunnerDrainService } from './runner-drain.service';

/**
 * Connects the job handler (JobMessageController) to the app's job queue and starts consuming.
 * The runner app and the embedded gateway call it after `app.init()`, so the runner's start checks
 * and its cancel subscription are in place before the first message arrives.
 */
export async function startJobConsumer(app: INestApplication): Promise<void> {
  const { runnerConcurrency } = app.get(FlansibleConfig);
  // Not inheritAppConfig: the gateway's global filter and pipe are written for HTTP.
  const server = new JobQueueServer(app.get(JobQueue), runnerConcurrency, heldDeliveriesOf(app));
  // At shutdown the drain stops this server's consuming and waits for the jobs it handed out.
  app.get(RunnerDrainService).attach(server);
  app.connectMicroservice({ strategy: server });
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
