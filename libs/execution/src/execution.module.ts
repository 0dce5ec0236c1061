import { DynamicModule, Module, Type } from '@nestjs/common';
import { RightsModule } from '@flansible/auth';
import { MetricsModule } from '@flansible/metrics';
import { WorkspaceModule } from '@flansible/workspace';
import { JobExecutor } from './job-executor';
import { JobMessageController } from './job-message.controller';
import { JobRunnerService } from './job-runner.service';
import { RunnerDrainService } from './runner-drain.service';
import { LostRunnerSweeper } from './lost-runner-sweeper';
import { RunnerHeartbeatService } from './runner-heartbeat.service';
import { RunnerStartupRecovery } from './runner-startup-recovery';
import { WarmAnsiblePool } from './warm-ansible-pool';

/**
 * Runs jobs: consumes the job queue and executes ansible / ansible-playbook / git, keeps the
 * runner's heartbeat and ends the jobs of lost runners. Needs RunnerJobStore, JobQueue, JobNoticeBus
 * and FlansibleConfig from the (global) store, queue and config modules.
 */
@Module({
  // The runner re-checks git checkouts with the same rule as the gateway, and the submitter's
  // rights (rbac.json as it is now) before a job starts.
  imports: [WorkspaceModule, RightsModule, MetricsModule],
  // The job handler; startJobConsumer connects it to the queue.
  controllers: [JobMessageController],
  providers: [JobExecutor, WarmAnsiblePool, JobRunnerService, RunnerHeartbeatService, LostRunnerSweeper, RunnerDrainService],
  exports: [JobExecutor, WarmAnsiblePool, JobRunnerService, RunnerHeartbeatService, RunnerDrainService],
})
export class ExecutionModule {
  /** With the deployment's account of the jobs its previous process left running (see RunnerStartupRecovery). */
  static withStartupRecovery(recovery: Type<RunnerStartupRecovery>): DynamicModule {
    return { module: ExecutionModule, providers: [{ provide: RunnerStartupRecovery, useClass: recovery }] };
  }
}
