import { HostSummary, JobEventType } from '@flansible/contracts';

/** Host events the summary counts while the play has not reached its final stats. */
export const HOST_RESULT_EVENTS: JobEventType[] = [
  JobEventType.HostOk,
  JobEventType.HostFailed,
  JobEventType.HostSkipped,
  JobEventType.HostUnreachable,
];

/** A stored host event as the summary reads it: data is the event's JSON text. */
export interface HostEventRow {
  host: string | null;
  type: string;
  data: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stats figure as a count: absent, negative or non-numeric values count as 0. */
function count(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function emptySummary(host: string): HostSummary {
  return { host, ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
}

function byHost(a: HostSummary, b: HostSummary): number {
  return a.host < b.host ? -1 : a.host > b.host ? 1 : 0;
}

/**
 * Per-host totals out of the final stats event, whose data.hosts maps each host to Ansible's
 * counters (`failures`, or `failed` as some callbacks spell it). Undefined without such a map.
 */
export function summaryFromStats(data: unknown): HostSummary[] | undefined {
  if (!isObject(data) || !isObject(data.hosts)) return undefined;
  return Object.entries(data.hosts)
    .map(([host, raw]) => {
      const stats = isObject(raw) ? raw : {};
      return {
        host,
        ok: count(stats.ok),
        changed: count(stats.changed),
        failed: count(stats.failures ?? stats.failed),
        unreachable: count(stats.unreachable),
        skipped: count(stats.skipped),
        rescued: count(stats.rescued),
        ignored: count(stats.ignored),
      };
    })
    .sort(byHost);
}

/**
 * Per-host totals counted from host events the way Ansible's stats count them, so the live
 * summary agrees with the final one: a changed result is also ok, and a failure with
 * ignore_errors counts as ok and ignored, not failed. A rescue leaves no host event of its own,
 * so `rescued` stays 0 until the stats event.
 */
export function summaryFromHostEvents(rows: HostEventRow[]): HostSummary[] {
  const hosts = new Map<string, HostSummary>();
  for (const row of rows) {
    if (row.host === null) continue;
    let summary = hosts.get(row.host);
    if (summary === undefined) {
      summary = emptySummary(row.host);
      hosts.set(row.host, summary);
    }
    const data = JSON.parse(row.data) as unknown;
    const changed = isObject(data) && data.changed === true;
    switch (row.type) {
      case JobEventType.HostOk:
        summary.ok++;
        if (changed) summary.changed++;
        break;
      case JobEventType.HostFailed:
        if (isObject(data) && data.ignore_errors === true) {
          summary.ok++;
          summary.ignored++;
          if (changed) summary.changed++;
        } else {
          summary.failed++;
        }
        break;
      case JobEventType.HostSkipped:
        summary.skipped++;
        break;
      case JobEventType.HostUnreachable:
        summary.unreachable++;
        break;
    }
  }
  return [...hosts.values()].sort(byHost);
}

