import { Topology, backoffDelay } from '@flansible/contracts';

/**
 * When a message whose handler failed comes back: the delay before its retry number `retry`
 * (1 for the first), or null once Topology.deliveryLimit retries are spent and it is
 * dead-lettered. The one rule both job queues follow; `delaysMs` is a seam for specs.
 */
export function retryDelay(retry: number, delaysMs: readonly number[] = Topology.retryDelaysMs): number | null {
  if (retry > Topology.deliveryLimit) return null;
  return backoffDelay(retry, delaysMs);
}

/** "1 s", "250 ms": a delay as the logs say it. */
export function describeDelay(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Checks a spec's delays: at least one, each a positive whole number of milliseconds. */
export function checkRetryDelays(delaysMs: readonly number[]): readonly number[] {
  if (delaysMs.length === 0 || !delaysMs.every((ms) => Number.isInteger(ms) && ms > 0)) {
    throw new RangeError(`retry delays must be positive whole milliseconds, got [${delaysMs.join(', ')}]`);
  }
  return delaysMs;
}
