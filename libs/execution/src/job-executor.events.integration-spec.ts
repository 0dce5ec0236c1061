import { JobEventType, JobKind, JobSpec, NewJobEvent } from '@flansible/contracts';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findCallbackPluginDir } from './callback-plugin';
import { ExecuteJobOptions } from './job-executor';
import { Invocation } from './invocation';
import { useJobExecutor } from './testing/job-executor-harness';
import { PING_EVENT_TYPES } from './testing/runner-job-specs';

jest.setTimeout(30_000);

/** Structured events from the callback plugin, and the new launch fields, with real Ansible on localhost. */
const { sandbox, executor, command, playbook } = useJobExecutor();

interface Execution {
  status: string;
  output: string;
  events: NewJobEvent[];
  eventBatches: number;
  spawned: Invocation[];
}

async function execute(spec: JobSpec, options: Partial<ExecuteJobOptions> & { withEvents?: boolean } = {}): Promise<Execution> {
  const chunks: string[] = [];
  const batches: NewJobEvent[][] = [];
  const spawned: Invocation[] = [];
  const { withEvents = true, ...rest } = options;
  const outcome = await executor().execute(spec, {
    appendOutput: async (chunk) => void chunks.push(chunk),
    ...(withEvents ? { appendEvents: async (events: NewJobEvent[]) => void batches.push(events) } : {}),
    onSpawn: (_pid, invocation) => spawned.push(invocation),
    ...rest,
  });
  return { status: outcome.status, output: chunks.join(''), events: batches.flat(), eventBatches: batches.length, spawned };
}

const SAMPLE = `- name: Sample play
  hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug: msg="hello"
    - name: change something
      command: "true"
    - name: fail but carry on
      command: "false"
      ignore_errors: true
    - name: never runs
      debug: msg="skipped"
      when: false
    - name: loop over items
      debug: msg="{{ item }}"
      loop: [alpha, {beta: 2}, gamma]
      when: item != 'gamma'
`;

/** Timestamps the command module reports differ from one run to the next. */
const withoutTimes = (output: string) => output.replace(/"(delta|start|end)": "[^"]*"/g, '"$1": "…"');

describe('structured events from the callback plugin', () => {
  it('finds the plugin in the repository', () => {
    expect(executor().callbackPluginDir).toMatch(/libs\/execution\/ansible\/callback_plugins$/);
    expect(existsSync(join(executor().callbackPluginDir!, 'flansible_events.py'))).toBe(true);
    expect(executor().checkCallbackPlugin()).toBe(true);
  });

  it('finds the plugin from the built app too (dist/ holds no .py file)', () => {
    const root = join(__dirname, '..', '..', '..');
    expect(findCallbackPluginDir(join(root, 'dist', 'libs', 'execution', 'src'))).toBe(
      join(root, 'libs', 'execution', 'ansible', 'callback_plugins'),
    );
    expect(findCallbackPluginDir('/')).toBeNull();
  });

  it('records the events of a playbook in order, and leaves the human output as it was', async () => {
    const path = await sandbox().writePlaybook('sample.yml', SAMPLE);
    const { status, output, events } = await execute(playbook(path));
    expect(status).toBe('successful');
    expect(events.map((e) => [e.type, e.host, e.task])).toEqual([
      [JobEventType.PlaybookStart, null, null],
      [JobEventType.PlayStart, null, null],
      [JobEventType.TaskStart, null, 'say hello'],
      [JobEventType.HostOk, 'localhost', 'say hello'],
      [JobEventType.TaskStart, null, 'change something'],
      [JobEventType.HostOk, 'localhost', 'change something'],
      [JobEventType.TaskStart, null, 'fail but carry on'],
      [JobEventType.HostFailed, 'localhost', 'fail but carry on'],
      [JobEventType.TaskStart, null, 'never runs'],
      [JobEventType.HostSkipped, 'localhost', 'never runs'],
      [JobEventType.TaskStart, null, 'loop over items'],
      [JobEventType.ItemOk, 'localhost', 'loop over items'],
      [JobEventType.ItemOk, 'localhost', 'loop over items'],
      [JobEventType.ItemSkipped, 'localhost', 'loop over items'],
      [JobEventType.HostOk, 'localhost', 'loop over items'],
      [JobEventType.Stats, null, null],
    ]);
    const data = events.map((e) => e.data);
    expect(data[0]).toEqual({ playbook: path });
    expect(data[1]).toEqual({ name: 'Sample play', hosts: 'all' });
    expect(data[2]).toEqual({ action: 'debug' });
    expect(data[3]).toEqual({ changed: false });
    expect(data[5]).toEqual({ changed: true });
    expect(data[7]).toEqual({ msg: 'non-zero return code', rc: 1, ignore_errors: true });
    expect(data[11]).toEqual({ item: 'alpha', changed: false });
    expect(data[12]).toEqual({ item: { beta: 2 }, changed: false });
    expect(data[13]).toEqual({ item: 'gamma', changed: false });
    expect(data[15]).toEqual({
      hosts: { localhost: { ok: 4, changed: 2, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 1 } },
    });
    for (let i = 1; i < events.length; i++) expect(events[i].createdAt.getTime()).toBeGreaterThanOrEqual(events[i - 1].createdAt.getTime());

    // The same run without the plugin prints the same thing: no JSON, no warning added.
    const plain = await execute(playbook(path), { withEvents: false });
    expect(plain.events).toEqual([]);
    expect(withoutTimes(output)).toBe(withoutTimes(plain.output));
    expect(output).not.toContain('"type"');
    expect(output).not.toContain('WARNING');
  });

  it('records host_ok and stats for an ad-hoc ping', async () => {
    const { status, output, events } = await execute(command());
    expect(status).toBe('successful');
    expect(output).toMatch(/^localhost \| SUCCESS => \{/);
    expect(events.map((e) => e.type)).toEqual(PING_EVENT_TYPES);
    expect(events[0].data).toEqual({ playbook: null });
    expect(events[3]).toMatchObject({ host: 'localhost', task: 'ping', data: { changed: false } });
    expect(events[4].data).toEqual({
      hosts: { localhost: { ok: 1, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } },
    });
  });

  it('records failures with a short message and a short output', async () => {
    const { status, events } = await execute(
      command({ module: 'shell', moduleArgs: 'python3 -c "print(\'x\' * 100000)"; exit 3' }),
    );
    expect(status).toBe('failed');
    const failed = events.find((e) => e.type === JobEventType.HostFailed)!;
    expect(failed).toMatchObject({ host: 'localhost', data: { rc: 3, ignore_errors: false, msg: 'non-zero return code' } });
    expect((failed.data.stdout as string).length).toBeLessThan(3_000);
    expect(JSON.stringify(events).length).toBeLessThan(10_000);
  });

  it('records item_failed for a failing loop item', async () => {
    const path = await sandbox().writePlaybook(
      'items.yml',
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "test {{ item }} = good"\n      loop: [good, bad]\n`,
    );
    const { status, events } = await execute(playbook(path));
    expect(status).toBe('failed');
    expect(events.filter((e) => e.type.startsWith('item_')).map((e) => [e.type, e.data.item, e.data.rc])).toEqual([
      [JobEventType.ItemOk, 'good', undefined],
      [JobEventType.ItemFailed, 'bad', 1],
    ]);
    expect(events.find((e) => e.type === JobEventType.HostFailed)!.data).toMatchObject({ ignore_errors: false });
  });

  it('records no events for git jobs (no events pipe for git)', async () => {
    // A checkout with no remote: git runs, and fails.
    const repoDir = join(sandbox().config.playbookRoot, 'no-remote');
    execFileSync('git', ['init', '-q', repoDir], { stdio: 'pipe' });
    const { status, events } = await execute({ kind: JobKind.Git, repoDir, remote: 'origin', branch: 'main', reset: false });
    expect(status).toBe('failed');
    expect(events).toEqual([]);
  });
});

describe('launch fields with real Ansible', () => {
  const TAGGED = `- hosts: all\n  gather_facts: false\n  tasks:
    - debug: msg="untagged-task"
    - debug: msg="deploy-task"
      tags: [deploy]
    - debug: msg="config-task"
      tags: [config]
`;

  it('runs only the tagged tasks with tags', async () => {
    const path = await sandbox().writePlaybook('tagged.yml', TAGGED);
    const { status, output, spawned } = await execute(playbook(path, { tags: ['deploy'] }));
    expect(status).toBe('successful');
    expect(spawned[0].args).toContain('--tags=deploy');
    expect(output).toContain('deploy-task');
    expect(output).not.toContain('untagged-task');
    expect(output).not.toContain('config-task');
  });

  it('skips the tasks of skip-tags', async () => {
    const path = await sandbox().writePlaybook('tagged.yml', TAGGED);
    const { status, output } = await execute(playbook(path, { skipTags: ['deploy', 'config'] }));
    expect(status).toBe('successful');
    expect(output).toContain('untagged-task');
    expect(output).not.toContain('deploy-task');
    expect(output).not.toContain('config-task');
  });

  it('changes nothing in check mode and shows the diff', async () => {
    const target = join(sandbox().root, 'check-mode-target.txt');
    const path = await sandbox().writePlaybook(
      'check.yml',
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: content="new content\\n" dest=${target}\n`,
    );
    const { status, output, events } = await execute(playbook(path, { check: true, diff: true }));
    expect(status).toBe('successful');
    expect(existsSync(target)).toBe(false);
    expect(output).toContain('+new content');
    expect(events.find((e) => e.type === JobEventType.HostOk)!.data).toEqual({ changed: true });
  });

  it('limits the hosts', async () => {
    const { status, output, spawned } = await execute(command({ hostPattern: 'all', limit: 'no-such-host' }));
    expect(spawned[0].args).toContain('--limit=no-such-host');
    expect(status).toBe('failed');
    expect(output).toContain('--limit leaves us with no hosts to target');
  });

  it('refuses a bad tag without running anything', async () => {
    const path = await sandbox().writePlaybook('tagged.yml', TAGGED);
    const { status, spawned } = await execute(playbook(path, { tags: ['deploy; touch /tmp/x'] }));
    expect(status).toBe('error');
    expect(spawned).toEqual([]);
  });
});
