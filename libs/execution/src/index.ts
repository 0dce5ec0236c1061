export { ExecutionModule } from './execution.module';
export { JobRunnerService, createRunnerId } from './job-runner.service';
export type { JobRunnerOptions } from './job-runner.service';
export { JobExecutor, JobInterruption } from './job-executor';
export type { ExecuteJobOptions } from './job-executor';
export {
  buildCommandInvocation,
  buildPlaybookInvocation,
  buildGitInvocations,
  buildPlaybookGitPullInvocation,
  InvalidJobSpecError,
} from './invocation';
export type { Invocation, InvocationFiles } from './invocation';
export { runProcess, signalProcessGroup, processGroupIsAlive, DEFAULT_KILL_GRACE_MS } from './process-runner';
export type { ProcessResult, RunProcessOptions } from './process-runner';
export { buildChildEnv } from './child-env';
export { OutputBatcher } from './output-batcher';
export type { OutputBatcherOptions } from './output-batcher';
export { serializeExtraVars } from './extra-vars-file';
export { confineJobPaths, PathConfinementError } from './confine-job-paths';
