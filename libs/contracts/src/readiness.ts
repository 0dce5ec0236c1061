import { ErrorBody } from './error-body';

/**
 * Readiness, as the gateway (`GET /api/health/ready`) and a runner (`GET /health/ready`) answer it:
 * 200 `{"status":"ok","checks":{...}}` when every part is up; otherwise 503 with the one error body,
 * naming the parts that are down (or saying the process is shutting down). Parts are named, never
 * described: no URL, host name or error text that would help an attacker.
 */
export type ReadinessPart = 'store' | 'queue';

/** The 200 answer. */
export interface ReadyBody {
  status: 'ok';
  checks: Partial<Record<ReadinessPart, { status: 'up' }>>;
}

export type ReadinessAnswer = { statusCode: 200; body: ReadyBody } | { statusCode: 503; body: ErrorBody };

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

  /** `draining`: the process is stopping and takes no new work, whatever its parts say. */
  async answer(draining = false): Promise<ReadinessAnswer> {
    const parts = Object.keys(this.checks) as ReadinessPart[];
    const up = await Promise.all(parts.map((part) => this.isUp(part)));
    const down = parts.filter((_, i) => !up[i]);
    if (!draining && down.length === 0) {
      return { statusCode: 200, body: { status: 'ok', checks: Object.fromEntries(parts.map((part) => [part, { status: 'up' }])) } };
    }
    const message = draining ? 'Not ready: shutting down' : `Not ready: ${down.join(' and ')} unavailable`;
    return { statusCode: 503, body: { statusCode: 503, error: 'Service Unavailable', message, details: down } };
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
