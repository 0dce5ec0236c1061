import { JobEventType, JobOutcome, NewJobEvent } from '@flansible/contracts';
import { hostSummaries, normaliseRun, normaliseText, normaliseValue, RunRecord, sortHostEvents, sortHostResults } from './normalise-run';

// Fixtures are real output of Ansible 2.14 in two runs of the same job, cut short.
const ROOT_A = '/tmp/flansible-exec-AbC123';
const ROOT_B = '/tmp/flansible-exec-xYz789';
const a = (text: string) => normaliseText(text, [ROOT_A]);
const b = (text: string) => normaliseText(text, [ROOT_B]);

const VERBOSE_A = `<localhost> EXEC /bin/sh -c '( umask 77 && mkdir -p "\` echo /root/.ansible/tmp \`"&& mkdir "\` echo /root/.ansible/tmp/ansible-tmp-1796607357.759414-4202-237764052435076 \`" && echo ansible-tmp-1796607357.759414-4202-237764052435076="\` echo /root/.ansible/tmp/ansible-tmp-1796607357.759414-4202-237764052435076 \`" ) && sleep 0'
<localhost> PUT ${ROOT_A}/data/tmp/ansible-local/ansible-local-4137y8a1i8pt/tmpsjjsb62u TO /root/.ansible/tmp/ansible-tmp-1796607357.759414-4202-237764052435076/AnsiballZ_command.py
<localhost> EXEC /bin/sh -c 'rm -f -r /root/.ansible/tmp/ansible-tmp-1796607357.759414-4202-237764052435076/ > /dev/null 2>&1 && sleep 0'`;
const VERBOSE_B = `<localhost> EXEC /bin/sh -c '( umask 77 && mkdir -p "\` echo /root/.ansible/tmp \`"&& mkdir "\` echo /root/.ansible/tmp/ansible-tmp-1796607357.5400407-4161-54669026398442 \`" && echo ansible-tmp-1796607357.5400407-4161-54669026398442="\` echo /root/.ansible/tmp/ansible-tmp-1796607357.5400407-4161-54669026398442 \`" ) && sleep 0'
<localhost> PUT ${ROOT_B}/data/tmp/ansible-local/ansible-local-413627z1wylp/tmpss2tn9yc TO /root/.ansible/tmp/ansible-tmp-1796607357.5400407-4161-54669026398442/AnsiballZ_command.py
<localhost> EXEC /bin/sh -c 'rm -f -r /root/.ansible/tmp/ansible-tmp-1796607357.5400407-4161-54669026398442/ > /dev/null 2>&1 && sleep 0'`;

const RESULT_A = `changed: [localhost] => {"changed": true, "cmd": ["echo", "verbose-marker"], "delta": "0:00:00.013907", "end": "2026-12-07 01:35:53.906871", "msg": "", "rc": 0, "start": "2026-12-07 01:35:53.892964", "stdout": "verbose-marker"}`;
const RESULT_B = `changed: [localhost] => {"changed": true, "cmd": ["echo", "verbose-marker"], "delta": "0:00:00.017938", "end": "2026-12-07 01:35:53.905065", "msg": "", "rc": 0, "start": "2026-12-07 01:35:53.887127", "stdout": "verbose-marker"}`;

const dateTimeFacts = (epoch: string, time: string, day: string) => `        "ansible_date_time": {
            "date": "2026-12-${day}",
            "day": "${day}",
            "epoch": "${epoch}",
            "epoch_int": "${epoch}",
            "iso8601_basic": "20261207T${time.replace(/:/g, '')}817195",
            "iso8601_micro": "2026-12-${day}T${time}.817195Z",
            "second": "${time.slice(-2)}",
            "time": "${time}",
            "tz": "UTC",
            "tz_offset": "+0000",
            "weekday": "Monday"
        },
        "ansible_distribution": "Debian",`;

describe('normaliseText', () => {
  it('replaces the run’s own sandbox root, longest spelling first, and no other root', () => {
    expect(normaliseText(`dest=${ROOT_A}/files/x and ${ROOT_B}/files/x`, [ROOT_A])).toBe(`dest=<ROOT>/files/x and ${ROOT_B}/files/x`);
    expect(normaliseText('/tmp/r and /private/tmp/r/files', ['/tmp/r', '/private/tmp/r'])).toBe('<ROOT> and <ROOT>/files');
    expect(a(`${ROOT_A}x`)).toBe('<ROOT>x');
  });

  it('makes the temporary directories and files of -vvv the same from run to run', () => {
    expect(a(VERBOSE_A)).toBe(b(VERBOSE_B));
    expect(a(VERBOSE_A)).toContain('PUT <ROOT>/data/tmp/ansible-local/ansible-local-<TMP>/tmp<TMP> TO /root/.ansible/tmp/ansible-tmp-<TMP>/AnsiballZ_command.py');
    expect(a(VERBOSE_A).split('\n')).toHaveLength(3);
  });

  it('keeps what surrounds a temporary directory: the file names in it, the parent, the command', () => {
    expect(a('/root/.ansible/tmp/ansible-tmp-1.5-2-3/source')).toBe('/root/.ansible/tmp/ansible-tmp-<TMP>/source');
    expect(a('/root/.ansible/tmp/ansible-tmp-1.5-2-3/AnsiballZ_copy.py')).not.toBe(a('/root/.ansible/tmp/ansible-tmp-1.5-2-3/AnsiballZ_file.py'));
    expect(a('/other/ansible-tmp-1.5-2-3/x')).not.toBe(a('/root/.ansible/tmp/ansible-tmp-1.5-2-3/x'));
    // ANSIBLE_LOCAL_TEMP itself has no random part, and a name that is not mkdtemp's stays.
    expect(a(`${ROOT_A}/data/tmp/ansible-local`)).toBe('<ROOT>/data/tmp/ansible-local');
    expect(a('ansible-local-12ab')).toBe('ansible-local-12ab');
  });

  it('makes the executor’s job directory the same, only under the run’s own data dir', () => {
    expect(a(`--extra-vars=@${ROOT_A}/data/tmp/job-Ab3xZ9/extra-vars.yml`)).toBe('--extra-vars=@<ROOT>/data/tmp/job-<TMP>/extra-vars.yml');
    expect(a('/elsewhere/job-Ab3xZ9')).toBe('/elsewhere/job-Ab3xZ9');
  });

  it('replaces delta, start and end in one-line and pretty JSON', () => {
    expect(a(RESULT_A)).toBe(b(RESULT_B));
    expect(a(RESULT_A)).toBe(
      'changed: [localhost] => {"changed": true, "cmd": ["echo", "verbose-marker"], "delta": "<DURATION>", "end": "<TIMESTAMP>", "msg": "", "rc": 0, "start": "<TIMESTAMP>", "stdout": "verbose-marker"}',
    );
    expect(a('    "delta": "0:00:01.5",\n    "end": "2026-12-07 01:35:50.735047",')).toBe('    "delta": "<DURATION>",\n    "end": "<TIMESTAMP>",');
  });

  it('leaves timestamps and durations alone anywhere else: in stdout, under other keys, in other shapes', () => {
    for (const text of [
      '"stdout": "2026-12-07 01:35:50.735047"',
      '"started": "2026-12-07 01:35:50"',
      '"start": "tomorrow"',
      '"end": "2026-12-07T01:35:50Z"',
      'delta: 0:00:00.003',
      '"msg": "took 0:00:00.014302"',
    ]) {
      expect(a(text)).toBe(text);
    }
  });

  it('replaces the clock facts of setup, and only those', () => {
    const first = dateTimeFacts('1796607285', '01:34:45', '07');
    const second = dateTimeFacts('1796693700', '01:35:00', '08');
    expect(a(first)).toBe(a(second));
    expect(a(first)).toContain('"epoch": "<DATE_TIME>"');
    expect(a(first)).toContain('"tz": "UTC"');
    expect(a(first)).toContain('"tz_offset": "+0000"');
    expect(a(first)).toContain('"ansible_distribution": "Debian"');
    expect(a(first).split('\n')).toHaveLength(first.split('\n').length);
    // The same keys outside ansible_date_time are facts like any other.
    expect(a('"ansible_date": {"epoch": "1"}, "time": "01:34:45"')).toBe('"ansible_date": {"epoch": "1"}, "time": "01:34:45"');
    // A time zone that differs is a difference.
    expect(a(first.replace('"tz": "UTC"', '"tz": "CET"'))).not.toBe(a(first));
  });

  it('replaces uuids', () => {
    expect(a('id 0f8fad5b-d9cb-469f-a165-70867728950e, again 7C9E6679-7425-40DE-944B-E07FC1F90AE7')).toBe('id <UUID>, again <UUID>');
    expect(a('0f8fad5b-d9cb')).toBe('0f8fad5b-d9cb');
  });

  it('never erases a real difference', () => {
    const base = `${RESULT_A}\n${VERBOSE_A}\n${dateTimeFacts('1', '01:00:00', '07')}\nlocalhost : ok=2 changed=1 failed=0`;
    const variants = [
      base.replace('"stdout": "verbose-marker"', '"stdout": "verbose-marker2"'),
      base.replace('"rc": 0', '"rc": 1'),
      base.replace('ok=2', 'ok=3'),
      base.replace('AnsiballZ_command.py', 'AnsiballZ_shell.py'),
      base.replace('/root/.ansible/tmp/ansible-tmp-', '/var/tmp/ansible-tmp-'),
      `[WARNING]: a warning the other run does not print\n${base}`,
      `${base}\n`,
      base.replace('\n', '\n\n'),
      base.replace('"ansible_distribution": "Debian"', '"ansible_distribution": "Ubuntu"'),
      base.replace(ROOT_A, '/tmp/flansible-exec-other'),
    ];
    for (const variant of variants) expect(a(variant)).not.toBe(a(base));
  });
});

describe('normaliseValue', () => {
  it('normalises strings at any depth, keys included, and keeps other values', () => {
    expect(
      normaliseValue({ playbook: `${ROOT_A}/playbooks/site/x.yml`, n: 1, ok: true, none: null, list: [`${ROOT_A}/a`, 2], [`${ROOT_A}/k`]: 'v' }, [ROOT_A]),
    ).toEqual({ playbook: '<ROOT>/playbooks/site/x.yml', n: 1, ok: true, none: null, list: ['<ROOT>/a', 2], '<ROOT>/k': 'v' });
  });

  it('replaces the timing keys and the clock facts of results carried as objects', () => {
    expect(
      normaliseValue(
        {
          delta: '0:00:00.003',
          start: '2026-12-07 01:35:53.892964',
          end: 'not a time',
          stdout: '2026-12-07 01:35:53.892964',
          ansible_date_time: { epoch: '1796607285', tz: 'UTC' },
        },
        [ROOT_A],
      ),
    ).toEqual({
      delta: '<DURATION>',
      start: '<TIMESTAMP>',
      end: 'not a time',
      stdout: '2026-12-07 01:35:53.892964',
      ansible_date_time: { epoch: '<DATE_TIME>', tz: 'UTC' },
    });
  });
});

const FORKS_A = `
PLAY [all] *********************************************************************

TASK [per host] ****************************************************************
changed: [beta]
changed: [gamma]
changed: [alpha]

TASK [debug] *******************************************************************
ok: [gamma] => {
    "doubled": "gammagamma"
}
ok: [alpha] => (item=1) => {
    "msg": 1
}
ok: [alpha] => (item=2) => {
    "msg": 2
}

PLAY RECAP *********************************************************************
alpha                      : ok=2    changed=1
gamma                      : ok=2    changed=1
`;
const FORKS_B = `
PLAY [all] *********************************************************************

TASK [per host] ****************************************************************
changed: [alpha]
changed: [beta]
changed: [gamma]

TASK [debug] *******************************************************************
ok: [alpha] => (item=1) => {
    "msg": 1
}
ok: [gamma] => {
    "doubled": "gammagamma"
}
ok: [alpha] => (item=2) => {
    "msg": 2
}

PLAY RECAP *********************************************************************
alpha                      : ok=2    changed=1
gamma                      : ok=2    changed=1
`;

describe('sortHostResults', () => {
  it('puts the results of one task in host order, each with its lines, one host’s results in their order', () => {
    expect(sortHostResults(FORKS_A)).toBe(sortHostResults(FORKS_B));
    expect(sortHostResults(FORKS_A)).toContain(
      'ok: [alpha] => (item=1) => {\n    "msg": 1\n}\nok: [alpha] => (item=2) => {\n    "msg": 2\n}\nok: [gamma] => {\n    "doubled": "gammagamma"\n}\n\nPLAY RECAP',
    );
    expect(sortHostResults(FORKS_A).split('\n').sort()).toEqual(FORKS_A.split('\n').sort());
  });

  it('keeps a host’s own order, and every difference but the order of hosts', () => {
    const swappedItems = FORKS_A.replace('(item=1) => {\n    "msg": 1', '(item=X) => {\n    "msg": X').replace('(item=2) => {\n    "msg": 2', '(item=1) => {\n    "msg": 1').replace('(item=X) => {\n    "msg": X', '(item=2) => {\n    "msg": 2');
    expect(sortHostResults(swappedItems)).not.toBe(sortHostResults(FORKS_A));
    expect(sortHostResults(FORKS_A.replace('changed: [beta]', 'ok: [beta]'))).not.toBe(sortHostResults(FORKS_A));
    expect(sortHostResults(FORKS_A.replace('"gammagamma"', '"gamma"'))).not.toBe(sortHostResults(FORKS_A));
    // Results never move across a task header.
    const moved = FORKS_A.replace('changed: [alpha]\n', '').replace('TASK [debug] ***', 'changed: [alpha]\n\nTASK [debug] ***');
    expect(sortHostResults(moved)).not.toBe(sortHostResults(FORKS_A));
  });

  it('sorts ad-hoc results by host too', () => {
    expect(sortHostResults('b | SUCCESS => {\n    "ping": "pong"\n}\na | FAILED! => {\n    "msg": "x"\n}')).toBe(
      'a | FAILED! => {\n    "msg": "x"\n}\nb | SUCCESS => {\n    "ping": "pong"\n}',
    );
  });
});

describe('sortHostEvents', () => {
  it('puts each run of host events in host order, between the events of no host', () => {
    const ev = (type: string, host: string | null, n = 0) => ({ type, host, n });
    expect(
      sortHostEvents([
        ev('task_start', null),
        ev('host_ok', 'b'),
        ev('item_ok', 'a', 1),
        ev('host_ok', 'c'),
        ev('item_ok', 'a', 2),
        ev('task_start', null),
        ev('host_ok', 'b'),
        ev('host_ok', 'a'),
      ]),
    ).toEqual([
      ev('task_start', null),
      ev('item_ok', 'a', 1),
      ev('item_ok', 'a', 2),
      ev('host_ok', 'b'),
      ev('host_ok', 'c'),
      ev('task_start', null),
      ev('host_ok', 'a'),
      ev('host_ok', 'b'),
    ]);
  });
});

const at = new Date(0);
const event = (type: JobEventType, host: string | null, data: Record<string, unknown>, createdAt = at): NewJobEvent => ({
  type,
  host,
  task: host === null ? null : 'a task',
  data,
  createdAt,
});
const zero = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };

describe('hostSummaries', () => {
  it('takes the summary from the final stats, and counts the live one from the host events', () => {
    const events = [
      event(JobEventType.HostOk, 'h', { changed: true }),
      event(JobEventType.HostFailed, 'h', { ignore_errors: true }),
      event(JobEventType.Stats, null, { hosts: { h: { ok: 2, changed: 1, failures: 0, unreachable: 0, skipped: 0, rescued: 1, ignored: 1 } } }),
    ];
    expect(hostSummaries(events)).toEqual({
      summary: [{ ...zero, host: 'h', ok: 2, changed: 1, rescued: 1, ignored: 1 }],
      liveSummary: [{ ...zero, host: 'h', ok: 2, changed: 1, ignored: 1 }],
    });
  });

  it('counts from the host events without a stats event', () => {
    const { summary } = hostSummaries([event(JobEventType.HostUnreachable, 'u', { msg: 'x' })]);
    expect(summary).toEqual([{ ...zero, host: 'u', unreachable: 1 }]);
  });
});

describe('normaliseRun', () => {
  const outcome: JobOutcome = { status: 'failed', reason: 'ansible-playbook exited with code 2', returnCode: 2 };
  const run = (root: string, extra: Partial<RunRecord> = {}): RunRecord => ({
    outcome,
    output: `fatal: [localhost]: FAILED! => {"delta": "0:00:00.01${root.length}", "path": "${root}/files/x"}\n`,
    events: [
      event(JobEventType.PlaybookStart, null, { playbook: `${root}/playbooks/site/p.yml` }, new Date(root.length)),
      event(JobEventType.HostFailed, 'localhost', { msg: `${root}/files/x is absent`, rc: null }, new Date(root.length + 1)),
    ],
    roots: [root],
    ...extra,
  });

  it('agrees for two runs that differ only in their noise, times and how they were launched', () => {
    const warm = run('/tmp/other-root', { outcome: { ...outcome, launchPath: 'warm' } as JobOutcome });
    expect(normaliseRun(warm)).toEqual(normaliseRun(run(ROOT_A)));
    expect(normaliseRun(run(ROOT_A))).toEqual({
      status: 'failed',
      returnCode: 2,
      reason: 'ansible-playbook exited with code 2',
      output: 'fatal: [localhost]: FAILED! => {"delta": "<DURATION>", "path": "<ROOT>/files/x"}\n',
      events: [
        { type: 'playbook_start', host: null, task: null, data: { playbook: '<ROOT>/playbooks/site/p.yml' } },
        { type: 'host_failed', host: 'localhost', task: 'a task', data: { msg: '<ROOT>/files/x is absent', rc: null } },
      ],
      summary: [{ ...zero, host: 'localhost', failed: 1 }],
      liveSummary: [{ ...zero, host: 'localhost', failed: 1 }],
    });
  });

  it('tells apart runs that differ in status, return code, reason, an event or its order', () => {
    const base = normaliseRun(run(ROOT_A));
    const [start, failed] = run(ROOT_A).events;
    for (const other of [
      run(ROOT_A, { outcome: { ...outcome, status: 'error' } }),
      run(ROOT_A, { outcome: { ...outcome, returnCode: 4 } }),
      run(ROOT_A, { outcome: { ...outcome, reason: 'ansible-playbook was killed by signal SIGKILL' } }),
      run(ROOT_A, { events: [start] }),
      run(ROOT_A, { events: [failed, start] }),
      run(ROOT_A, { events: [start, { ...failed, data: { ...failed.data, rc: 1 } }] }),
      run(ROOT_A, { events: [start, { ...failed, host: 'other' }] }),
      run(ROOT_A, { events: [start, { ...failed, type: JobEventType.HostUnreachable }] }),
    ]) {
      expect(normaliseRun(other)).not.toEqual(base);
    }
  });

  it('ignores the order of hosts only when asked', () => {
    const ok = (host: string) => event(JobEventType.HostOk, host, { changed: false });
    const one = run(ROOT_A, { output: 'ok: [b]\nok: [a]\n', events: [ok('b'), ok('a')] });
    const two = run(ROOT_A, { output: 'ok: [a]\nok: [b]\n', events: [ok('a'), ok('b')] });
    expect(normaliseRun(one)).not.toEqual(normaliseRun(two));
    expect(normaliseRun(one, { anyHostOrder: true })).toEqual(normaliseRun(two, { anyHostOrder: true }));
  });
});
