import { HostSummary } from '@flansible/contracts';

/** Which hosts of a finished job a relaunch runs on (`hosts` of POST /api/v1/jobs/{id}/relaunch). */
export const RelaunchHosts = {
  All: 'all',
  Failed: 'failed',
  Unreachable: 'unreachable',
  FailedAndUnreachable: 'failed_and_unreachable',
} as const;
export type RelaunchHosts = (typeof RelaunchHosts)[keyof typeof RelaunchHosts];

const SELECTS: Record<RelaunchHosts, (host: HostSummary) => boolean> = {
  [RelaunchHosts.All]: () => true,
  [RelaunchHosts.Failed]: (host) => host.failed > 0,
  [RelaunchHosts.Unreachable]: (host) => host.unreachable > 0,
  [RelaunchHosts.FailedAndUnreachable]: (host) => host.failed > 0 || host.unreachable > 0,
};

/**
 * The names of the hosts `which` picks from a job's per-host results (its summary: a failure a
 * block rescued or ignore_errors let pass does not count as failed, as in Ansible's recap).
 * `within` is the job's own limitHosts when it was a relaunch itself: a relaunch of a relaunch
 * never names a host the first one could not reach.
 */
export function relaunchHostNames(summary: readonly HostSummary[], which: RelaunchHosts, within?: readonly string[]): string[] {
  const picked = summary.filter(SELECTS[which]).map((host) => host.host);
  return within ? picked.filter((host) => within.includes(host)) : picked;
}
