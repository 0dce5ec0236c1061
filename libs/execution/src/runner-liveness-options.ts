import { FlansibleConfig } from '@flansible/config';

/** Test seams; production takes its timings from the configuration. */
export interface RunnerHeartbeatOptions {
  /** Between two heartbeats (default: config.heartbeatSeconds). */
  heartbeatMs?: number;
  /** A runner silent this long is lost (default: config.runnerLostAfterSeconds). */
  lostAfterMs?: number;
  /** Look for lost runners every this many heartbeats (default 3). */
  sweepEveryBeats?: number;
}

/** Optional provider of RunnerHeartbeatOptions (specs use short timings). */
export const RUNNER_HEARTBEAT_OPTIONS = Symbol('RUNNER_HEARTBEAT_OPTIONS');

const DEFAULT_SWEEP_EVERY_BEATS = 3;

/** The configuration's timings, with the spec's options over them. */
export function runnerLiveness(config: FlansibleConfig, options: RunnerHeartbeatOptions = {}): Required<RunnerHeartbeatOptions> {
  return {
    heartbeatMs: options.heartbeatMs ?? config.heartbeatSeconds * 1000,
    lostAfterMs: options.lostAfterMs ?? config.runnerLostAfterSeconds * 1000,
    sweepEveryBeats: options.sweepEveryBeats ?? DEFAULT_SWEEP_EVERY_BEATS,
  };
}
