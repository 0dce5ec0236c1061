/**
 * The wait before retry number `retry` (1 for the first) from a list of growing delays: the
 * `retry`-th, the last one repeating once the list is spent. The one backoff rule of the job
 * queues' retries and the webhook deliveries' retries.
 */
export function backoffDelay(retry: number, delaysMs: readonly number[]): number {
  return delaysMs[Math.min(retry, delaysMs.length) - 1];
}
