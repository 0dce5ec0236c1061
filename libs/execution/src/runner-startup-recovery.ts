/**
 * A deployment's own account of the jobs a previous process of this runner left running, settled
 * once at start: after the runner's first heartbeat and before its first lost-runner sweep, so that
 * the sweep (which cannot know why a runner went silent) never ends those jobs first.
 * The embedded deployment provides one (its runner restarts with the gateway); a lone runner does not.
 */
export abstract class RunnerStartupRecovery {
  abstract recover(): Promise<void>;
}
