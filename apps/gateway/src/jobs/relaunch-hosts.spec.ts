import { HostSummary } from '@flansible/contracts';
import { relaunchHostNames } from './relaunch-hosts';

const host = (name: string, counts: Partial<HostSummary> = {}): HostSummary => ({
  host: name,
  ok: 0,
  changed: 0,
  failed: 0,
  unreachable: 0,
  skipped: 0,
  rescued: 0,
  ignored: 0,
  ...counts,
});

const SUMMARY = [
  host('ok1', { ok: 3, changed: 1 }),
  host('failed1', { ok: 1, failed: 1 }),
  host('gone1', { unreachable: 1 }),
  host('both1', { failed: 1, unreachable: 1 }),
  host('rescued1', { ok: 2, rescued: 1 }),
  host('ignored1', { ok: 1, ignored: 1 }),
  host('skipped1', { skipped: 2 }),
];

describe('relaunchHostNames', () => {
  it.each([
    ['all', ['ok1', 'failed1', 'gone1', 'both1', 'rescued1', 'ignored1', 'skipped1']],
    ['failed', ['failed1', 'both1']],
    ['unreachable', ['gone1', 'both1']],
    ['failed_and_unreachable', ['failed1', 'gone1', 'both1']],
  ] as const)('picks %s hosts as the recap counts them (rescued and ignored failures are not failed)', (which, names) => {
    expect(relaunchHostNames(SUMMARY, which)).toEqual(names);
  });

  it("stays within a relaunch's own hosts", () => {
    expect(relaunchHostNames(SUMMARY, 'all', ['failed1', 'gone1', 'elsewhere'])).toEqual(['failed1', 'gone1']);
    expect(relaunchHostNames(SUMMARY, 'failed', ['gone1'])).toEqual([]);
  });
});
