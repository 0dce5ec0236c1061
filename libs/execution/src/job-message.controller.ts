import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JobMessage, JobPatterns } from '@flansible/contracts';
import { JobDeliveryContext } from '@flansible/queue';
import { JobRunnerService } from './job-runner.service';

/**
 * The runner's job handler, reached through JobQueueServer in both deployments. One handler for
 * every kind: a message only says a job is queued, and the job the store's fair claim picks may
 * be of another kind than the message's.
 */
@Controller()
export class JobMessageController {
  constructor(private readonly runner: JobRunnerService) {}

  /** Resolving acks the message; a rejection (the store failing) returns it. */
  @EventPattern(JobPatterns.Queued)
  onJobQueued(@Payload() message: JobMessage, @Ctx() context: JobDeliveryContext): Promise<void> {
    return this.runner.handle(message, context.getDelivery());
  }
}
