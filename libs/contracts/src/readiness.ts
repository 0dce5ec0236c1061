/**
 * Readiness, as the gateway (`GET /api/health/ready`) and a runner (`GET /health/ready`) answer it:
 * 200 with status `ok` when every part is up, 503 otherwise, naming the part that is down. Parts
 * are named, never described: no URL, host name or error text that would help an attacker.
 */
export type ReadinessPart = 'store' | 'queue';

export interface ReadinessReport {
  /** `draining`: the process is stopping (SIGTERM) and takes no new work, whatever its parts say. */
  status: 'ok' | 'error' | 'draining';
  checks: Partial<Record<ReadinessPart, { status: 'up' | 'down' }>>;
}

/** A part is down when its check answers false, throws, or has not answered within this long. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/** One part's check: true (or a resolved promise) when the part is up. */
export type ReadinessCheck = () => boolean | Promise<unknown>;

/**
 * Runs the checks of one process. A check still running from an earlier probe (a database that
 * stopped answering) is waited for again rather than started once more, so probes against a dead
 * part hold one connection, not one per probe.
 */
export class ReadinessProbe {
  private readonly pending = new Map<ReadinessPart, Promise<boolean>>();

  constructor(
    private readonly checks: Record<ReadinessPart, ReadinessCheck>,
    private readonly timeoutMs = READINESS_CHECK_TIMEOUT_MS,
  ) {}

  async report(draining = false): Promise<ReadinessReport> {
    const parts = Object.keys(this.checks) as ReadinessPart[];
    const up = await Promise.all(parts.map((part) => this.isUp(part)));
    const checks: ReadinessReport['checks'] = {};
    parts.forEach((part, i) => (checks[part] = { status: up[i] ? 'up' : 'down' }));
    return { status: draining ? 'draining' : up.every(Boolean) ? 'ok' : 'error', checks };
  }

  private async isUp(part: ReadinessPart): Promise<boolean> {
    let check = this.pending.get(part);
    if (!check) {
      check = (async () => (await this.checks[part]()) !== false)().catch(() => false);
      this.pending.set(part, check);
      const forget = check;
      void check.finally(() => this.pending.get(part) === forget && this.pending.delete(part));
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.timeoutMs)));
    try {
      return await Promise.race([check, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
