/** What `eventually` resolves with: the probe's first truthy answer. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface EventuallyOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between probes (default 50 ms). */
  intervalMs?: number;
}

/**
 * Probes until `probe` answers something truthy and resolves with it; rejects with
 * "timed out waiting for <what>" (and the probe's last error, if it threw) after `timeoutMs`.
 * A probe that throws counts as "not yet": the condition may depend on a service still starting.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  what: string,
  options: EventuallyOptions | number = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 10_000, intervalMs = 50 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
