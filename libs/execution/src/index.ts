export { ExecutionModule } from './execution.module';
export { RunnerStartupRecovery } from './runner-startup-recovery';
export { JobMessageController } from './job-message.controller';
export { startJobConsumer } from './job-consumer';
export { JobRunnerService, createRunnerId } from './job-runner.service';
export type { JobRunnerOptions } from './job-runner.service';
export { RunnerHeartbeatService } from './runner-heartbeat.service';
export { LostRunnerSweeper, abandonedJobReason, lostRunnerReason } from './lost-runner-sweeper';
export { RunnerDrainService } from './runner-drain.service';
export { RUNNER_HEARTBEAT_OPTIONS } from './runner-liveness-options';
export type { RunnerHeartbeatOptions } from './runner-liveness-options';
export { JobExecutor, JobInterruption } from './job-executor';
export type { ExecuteJobOptions } from './job-executor';
export {
  buildCommandInvocation,
  buildPlaybookInvocation,
  buildGitInvocations,
  buildPlaybookGitPullInvocation,
  jobTimeoutSeconds,
  InvalidJobSpecError,
} from './invocation';
export type { Invocation, InvocationFiles } from './invocation';
export { runProcess, signalProcessGroup, processGroupIsAlive, DEFAULT_KILL_GRACE_MS } from './process-runner';
export type { ProcessResult, RunProcessOptions } from './process-runner';
export { buildChildEnv } from './child-env';
export type { ChildEnvOptions } from './child-env';
export { findCallbackPluginDir, EVENTS_CALLBACK_NAME, EVENTS_FD } from './callback-plugin';
export { OutputBatcher, DEFAULT_FLUSH_INTERVAL_MS } from './output-batcher';
export type { OutputBatcherOptions } from './output-batcher';
export { EventBatcher } from './event-batcher';
export type { EventBatcherOptions } from './event-batcher';
export { JobEventLineReader, parseJobEventLine } from './job-event-parser';
export { serializeExtraVars } from './extra-vars-file';
export { confineJobPaths, PathConfinementError } from './confine-job-paths';
