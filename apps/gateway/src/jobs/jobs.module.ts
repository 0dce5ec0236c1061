import { Module } from '@nestjs/common';
import { RightsModule } from '@flansible/auth';
import { MetricsModule } from '@flansible/metrics';
import { WorkspaceModule } from '@flansible/workspace';
import { FlansibleJobsController } from './flansible-jobs.controller';
import { IdempotencyService } from './idempotency.service';
import { JobControlService } from './job-control.service';
import { JobStreamService } from './job-stream.service';
import { LiveStreams } from './live-streams';
import { JobsController } from './jobs.controller';
import { JobQueryService } from './job-query.service';
import { JobRelaunchService } from './job-relaunch.service';
import { JobQuotaService } from './job-quota.service';
import { JobSubmissionService } from './job-submission.service';

@Module({
  imports: [RightsModule, WorkspaceModule, MetricsModule],
  controllers: [FlansibleJobsController, JobsController],
  providers: [
    JobSubmissionService,
    JobRelaunchService,
    JobQuotaService,
    IdempotencyService,
    JobQueryService,
    JobControlService,
    JobStreamService,
    LiveStreams,
  ],
  // The gateway's shutdown ends the live streams; webhooks send the job resource as its reader sees it.
  exports: [LiveStreams, JobQueryService],
})
export class JobsModule {}
