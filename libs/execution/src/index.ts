// What the apps and the end-to-end tests use; everything else is private to the library.
export { ExecutionModule } from './execution.module';
export { RunnerStartupRecovery } from './runner-startup-recovery';
export { startJobConsumer } from './job-consumer';
export { JobRunnerService } from './job-runner.service';
export { abandonedJobReason } from './lost-runner-sweeper';
export { RunnerDrainService } from './runner-drain.service';
export {
  buildCommandInvocation,
  buildPlaybookInvocation,
  buildGitInvocations,
  jobTimeoutSeconds,
} from './invocation';
export { buildChildEnv } from './child-env';
export { findAnsibleScript, scriptCommand } from './ansible-launcher';
export { serializeExtraVars } from './extra-vars-file';
