import { Module } from '@nestjs/common';
import { AuthModule } from '@flansible/auth';
import { WorkspaceModule } from '@flansible/workspace';
import { FlansibleJobsController } from './flansible-jobs.controller';
import { JobQueryService } from './job-query.service';
import { JobSubmissionService } from './job-submission.service';

@Module({
  imports: [AuthModule, WorkspaceModule],
  controllers: [FlansibleJobsController],
  providers: [JobSubmissionService, JobQueryService],
})
export class JobsModule {}
