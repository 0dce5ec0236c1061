import { JobEventType } from '@flansible/contracts';
import { HostEventRow, summaryFromHostEvents, summaryFromStats } from './host-summary';

const zero = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
const row = (type: JobEventType, host: string | null, data: Record<string, unknown> = {}): HostEventRow => ({
  type,
  host,
  data: JSON.stringify(data),
});

describe('summaryFromHostEvents', () => {
  it('counts as Ansible does: changed is also ok, an ignored failure is ok and ignored', () => {
    const summary = summaryFromHostEvents([
      row(JobEventType.HostOk, 'web2'),
      row(JobEventType.HostOk, 'web1', { changed: true }),
      row(JobEventType.HostFailed, 'web1'),
      row(JobEventType.HostFailed, 'web1', { ignore_errors: true, changed: true }),
      row(JobEventType.HostSkipped, 'web2'),
      row(JobEventType.HostUnreachable, 'db1'),
    ]);
    expect(summary).toEqual([
      { ...zero, host: 'db1', unreachable: 1 },
      { ...zero, host: 'web1', ok: 2, changed: 2, failed: 1, ignored: 1 },
      { ...zero, host: 'web2', ok: 1, skipped: 1 },
    ]);
  });

  it('counts nothing for events without a host or of another type, and is empty without host events', () => {
    expect(summaryFromHostEvents([row(JobEventType.HostOk, null), row(JobEventType.PlayStart, 'web1')])).toEqual([{ ...zero, host: 'web1' }]);
    expect(summaryFromHostEvents([])).toEqual([]);
  });
});

describe('summaryFromStats', () => {
  it("takes each host's figures, `failed` standing in for `failures`, sorted by host", () => {
    const summary = summaryFromStats({
      hosts: {
        web2: { ok: 3, changed: 1, failures: 2, unreachable: 0, skipped: 4, rescued: 1, ignored: 2 },
        web1: { ok: 1, failed: 5 },
      },
    });
    expect(summary).toEqual([
      { ...zero, host: 'web1', ok: 1, failed: 5 },
      { host: 'web2', ok: 3, changed: 1, failed: 2, unreachable: 0, skipped: 4, rescued: 1, ignored: 2 },
    ]);
  });

  it('counts absent, negative, fractional or non-numeric figures as whole non-negative numbers', () => {
    expect(summaryFromStats({ hosts: { h: { ok: -1, changed: 'x', skipped: 2.7, rescued: '3' }, g: null } })).toEqual([
      { ...zero, host: 'g' },
      { ...zero, host: 'h', skipped: 2, rescued: 3 },
    ]);
  });

  it('answers undefined without a hosts map, so the caller counts host events instead', () => {
    for (const data of [undefined, null, 'stats', [], {}, { hosts: [] }, { hosts: 'web1' }]) expect(summaryFromStats(data)).toBeUndefined();
  });
});
