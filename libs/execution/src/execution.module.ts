import { Module } from '@nestjs/common';
import { JobExecutor } from './job-executor';
import { JobRunnerService } from './job-runner.service';

/**
 * Runs jobs: consumes the job queue and executes ansible / ansible-playbook / git. Needs
 * JobStore, JobQueue and FlansibleConfig from the (global) store, queue and config modules.
 */
@Module({
  providers: [JobExecutor, JobRunnerService],
  exports: [JobExecutor, JobRunnerService],
})
export class ExecutionModule {}
