import { CommandJobSpec, JobKind, JobOutcome, JobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ansiblePython, findAnsibleLauncher, throughLauncher } from './ansible-launcher';
import { JobExecutor } from './job-executor';
import { AnsibleSandbox, createAnsibleSandbox } from './testing/ansible-sandbox';
import { startJobExecutor } from './testing/job-executor-harness';

jest.setTimeout(60_000);

/**
 * The guard inside Ansible (flansible_launch.py), against real Ansible: a guarded job acts only on
 * hosts its inventory declares and runs no controller-side module argument, whatever reached it;
 * an unrestricted (admin) job is untouched.
 */
let sandbox: AnsibleSandbox;
let executor: JobExecutor;
let stopExecutor: () => Promise<void>;
let remoteInventory: string;
let canaryDir: string;

const DEVBOX = 'devbox ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"';

beforeAll(async () => {
  sandbox = await createAnsibleSandbox();
  ({ executor, stop: stopExecutor } = await startJobExecutor(sandbox.config));
  remoteInventory = join(sandbox.config.inventoryRoot, 'webdev');
  // Remote hosts (nothing listens on 127.0.0.2:1) and one declared host over the local connection.
  await writeFile(remoteInventory, `[web]\nweb1 ansible_host=127.0.0.2 ansible_port=1\n[box]\n${DEVBOX}\n`);
  canaryDir = await mkdtemp(join(tmpdir(), 'flansible-canary-'));
});
afterAll(async () => {
  await stopExecutor();
  await sandbox.dispose();
});

async function run(spec: JobSpec): Promise<{ outcome: JobOutcome; output: string }> {
  const chunks: string[] = [];
  const outcome = await executor.execute(spec, { appendOutput: async (chunk) => void chunks.push(chunk) });
  return { outcome, output: chunks.join('') };
}

const touch = (name: string) => ({ path: join(canaryDir, name), state: 'touch' });
const canaries = () => readdir(canaryDir);

const command = (hostPattern: string, overrides: Partial<CommandJobSpec> = {}): CommandJobSpec => ({
  kind: JobKind.Command,
  inventoryPath: remoteInventory,
  hostPattern,
  module: 'file',
  moduleArgs: touch(`adhoc-${hostPattern}`),
  ...overrides,
});

async function playbook(name: string, content: string, overrides: Partial<PlaybookJobSpec> = {}): Promise<PlaybookJobSpec> {
  const playbookPath = join(sandbox.playbookDir, name);
  await writeFile(playbookPath, content);
  return { kind: JobKind.Playbook, inventoryPath: remoteInventory, playbookDir: sandbox.playbookDir, playbookPath, ...overrides };
}

describe('the guard inside Ansible', () => {
  it.each(['localhost', '::1', 'localhost[0]', '127.0.0.1[0]', '::1[0]', 'localhost[0:]', 'box,::1', 'box:127.0.0.1'])(
    'ends an ad-hoc job on %s as error before any task runs',
    async (pattern) => {
      const { outcome, output } = await run(command(pattern));
      expect(outcome).toEqual({ status: 'error', reason: expect.stringMatching(/^Flansible refused the job: host (localhost|127\.0\.0\.1|::1) is not declared in the job's inventory$/), returnCode: null });
      expect(output).toContain('Flansible refused the job');
      expect(await canaries()).toEqual([]);
    },
  );

  it('refuses hosts from extra vars, delegation and add_host in playbooks', async () => {
    const hostsFromVar = await playbook('hosts-var.yml', `- hosts: "{{ target | default('all') }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'hosts')}", state: touch }\n`);
    const delegated = await playbook('delegate.yml', `- hosts: box\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'delegate')}", state: touch }\n      delegate_to: "{{ via }}"\n`);
    const added = await playbook(
      'add-host.yml',
      `- hosts: box\n  gather_facts: false\n  tasks:\n    - ansible.builtin.add_host: { name: "{{ newhost }}" }\n- hosts: "{{ newhost }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'added')}", state: touch }\n`,
    );
    const cases: [PlaybookJobSpec, RegExp][] = [
      [{ ...hostsFromVar, extraVars: { target: 'localhost' } }, /host localhost is not declared/],
      [{ ...hostsFromVar, extraVars: { target: '::1' } }, /host ::1 is not declared/],
      [{ ...hostsFromVar, extraVars: { target: 'all,localhost[0]' } }, /host localhost is not declared/],
      [{ ...delegated, extraVars: { via: 'localhost' } }, /delegation target localhost is not declared/],
      [{ ...delegated, extraVars: { via: '127.0.0.1' } }, /delegation target 127\.0\.0\.1 is not declared/],
      [{ ...added, extraVars: { newhost: 'localhost' } }, /host localhost is not declared/],
    ];
    for (const [spec, reason] of cases) {
      const { outcome } = await run(spec);
      expect(outcome).toEqual({ status: 'error', reason: expect.stringMatching(reason), returnCode: null });
    }
    expect(await canaries()).toEqual([]);

    // The same playbooks with declared hosts behave as before.
    expect((await run({ ...hostsFromVar, extraVars: { target: 'devbox' } })).outcome.status).toBe('successful');
    expect((await run({ ...delegated, extraVars: { via: 'devbox' } })).outcome.status).toBe('successful');
    // A declared host named by its address is declared: it is tried, and is unreachable.
    const byAddress = await run({ ...delegated, extraVars: { via: '127.0.0.2' } });
    expect(byAddress.outcome).toMatchObject({ status: 'failed', returnCode: 4 });
    expect((await canaries()).sort()).toEqual(['delegate', 'hosts']);
  });

  it('checks ad-hoc arguments as Ansible parsed them, whatever the gateway saw', async () => {
    const secret = join(sandbox.root, 'controller-secret');
    await writeFile(secret, 'controller only\n');
    const copied = join(canaryDir, 'copied');
    const cases: [Partial<CommandJobSpec>, RegExp][] = [
      [{ module: 'copy', moduleArgs: `src=${secret} dest=${copied}` }, /module copy parameter src reads a file on the Flansible host/],
      [{ module: 'ansible.legacy.copy', moduleArgs: `src='${secret}' dest=${copied} remote_src=no` }, /parameter src/],
      [{ module: 'debug', moduleArgs: `var=lookup('pipe','touch ${join(canaryDir, 'debug')}')` }, /module debug parameter var is evaluated/],
      [{ module: 'ansible.builtin.template', moduleArgs: { src: secret, dest: copied } }, /module template reads a file/],
      [{ module: 'package', moduleArgs: { name: 'x', use: 'ansible.builtin.command' } }, /module package parameter use runs another module/],
    ];
    for (const [overrides, reason] of cases) {
      const { outcome } = await run(command('devbox', overrides));
      expect(outcome).toEqual({ status: 'error', reason: expect.stringMatching(reason), returnCode: null });
    }
    expect(existsSync(copied)).toBe(false);
    expect(await canaries()).not.toContain('debug');

    // Allowed forms still work: content, and a source on the target.
    const viaContent = await run(command('devbox', { module: 'copy', moduleArgs: { content: 'hello\n', dest: join(canaryDir, 'content') } }));
    expect(viaContent.outcome.status).toBe('successful');
    const remote = await run(command('devbox', { module: 'copy', moduleArgs: { src: join(canaryDir, 'content'), dest: join(canaryDir, 'remote'), remote_src: true } }));
    expect(remote.outcome.status).toBe('successful');
  });

  it("refuses delegation to a localhost name that a declared host has as its address: Ansible delegates to its implicit localhost", async () => {
    // Ansible resolves localhost, 127.0.0.1 and ::1 to its implicit localhost (connection local,
    // as the service user) before it ever compares addresses, whatever box's ansible_host says.
    const aliased = join(sandbox.config.inventoryRoot, 'aliased');
    await writeFile(aliased, '[aliases]\nbox ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\nbox6 ansible_host=::1 ansible_port=1 ansible_connection=ssh\nboxname ansible_host=localhost ansible_port=1 ansible_connection=ssh\n');
    const delegated = await playbook('aliased-delegate.yml', `- hosts: aliases\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'aliased-{{ via }}')}", state: touch }\n      delegate_to: "{{ via }}"\n`, { inventoryPath: aliased });
    for (const via of ['127.0.0.1', '::1', 'localhost']) {
      const { outcome } = await run({ ...delegated, extraVars: { via } });
      expect(outcome).toEqual({ status: 'error', reason: `Flansible refused the job: delegation target ${via} is not declared in the job's inventory`, returnCode: null });
    }
    expect((await canaries()).filter((name) => name.startsWith('aliased-'))).toEqual([]);
  });

  describe('with an inventory that lists localhost', () => {
    let listing: string;
    const LISTED_LOCALHOST = 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"';
    beforeAll(async () => {
      listing = join(sandbox.config.inventoryRoot, 'listing');
      await writeFile(listing, `[local]\n${LISTED_LOCALHOST}\n[web]\nweb1 ansible_host=127.0.0.2 ansible_port=1\n`);
    });
    const on = (pattern: string, name: string) => command(pattern, { inventoryPath: listing, moduleArgs: touch(name) });

    // Ansible resolves 127.0.0.1 and ::1 to the inventory's own localhost when it lists one, never
    // to its implicit localhost: every spelling reaches the declared host, with its variables.
    it.each([
      ['localhost', 'by-name'],
      ['localhost[0]', 'by-subscript'],
      ['local', 'by-group'],
      ['local:&localhost', 'by-intersection'],
      ['127.0.0.1', 'by-ipv4'],
      ['::1', 'by-ipv6'],
      ['127.0.0.1[0]', 'by-ipv4-subscript'],
    ])('lets a guarded ad-hoc job on %s reach the listed localhost', async (pattern, name) => {
      const { outcome, output } = await run(on(pattern, name));
      expect(outcome.status).toBe('successful');
      expect(output).toMatch(/^localhost \| CHANGED/m);
      expect(await canaries()).toContain(name);
    });

    it('lets playbooks name the listed localhost in hosts and delegate_to, and nothing undeclared', async () => {
      const hostsFromVar = await playbook('listed-hosts.yml', `- hosts: "{{ target }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'listed-{{ target }}')}", state: touch }\n`, { inventoryPath: listing });
      const delegated = await playbook('listed-delegate.yml', `- hosts: local\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'listed-via-{{ via }}')}", state: touch }\n      delegate_to: "{{ via }}"\n`, { inventoryPath: listing });
      for (const target of ['localhost', '127.0.0.1']) expect((await run({ ...hostsFromVar, extraVars: { target } })).outcome.status).toBe('successful');
      for (const via of ['localhost', '127.0.0.1', '::1']) expect((await run({ ...delegated, extraVars: { via } })).outcome.status).toBe('successful');
      const added = await playbook(
        'listed-add.yml',
        `- hosts: local\n  gather_facts: false\n  tasks:\n    - ansible.builtin.add_host: { name: "{{ newhost }}" }\n- hosts: "{{ newhost }}"\n  gather_facts: false\n  tasks:\n    - ansible.builtin.file: { path: "${join(canaryDir, 'listed-added')}", state: touch }\n`,
        { inventoryPath: listing },
      );
      const refused: [PlaybookJobSpec, RegExp][] = [
        [{ ...added, extraVars: { newhost: 'elsewhere' } }, /host elsewhere is not declared/],
        [{ ...delegated, extraVars: { via: '127.0.0.9' } }, /delegation target 127\.0\.0\.9 is not declared/],
      ];
      for (const [spec, reason] of refused) {
        expect((await run(spec)).outcome).toEqual({ status: 'error', reason: expect.stringMatching(reason), returnCode: null });
      }
      expect((await canaries()).filter((name) => name.startsWith('listed-')).sort()).toEqual([
        'listed-127.0.0.1',
        'listed-localhost',
        'listed-via-127.0.0.1',
        'listed-via-::1',
        'listed-via-localhost',
      ]);
    });
  });

  it('leaves admin jobs unrestricted', async () => {
    const { outcome } = await run(command('localhost', { moduleArgs: touch('admin'), unrestricted: true }));
    expect(outcome.status).toBe('successful');
    expect(await canaries()).toContain('admin');
  });
});

describe('the launcher', () => {
  it("reads the interpreter from the shebang of the ansible on PATH", async () => {
    const bin = await mkdtemp(join(tmpdir(), 'flansible-bin-'));
    const write = async (line: string) => {
      await writeFile(join(bin, 'ansible'), `${line}\nprint('x')\n`);
      await chmod(join(bin, 'ansible'), 0o755);
    };
    await write('#! /usr/bin/python3 -s');
    expect(ansiblePython(bin)).toEqual(['/usr/bin/python3', '-s']);
    await write('#!/usr/bin/env python3');
    expect(ansiblePython(`${bin}:/usr/bin`)).toEqual(['/usr/bin/python3']);
    await write('not a script');
    expect(ansiblePython(bin)).toBeNull();
    expect(findAnsibleLauncher(join(bin, 'missing'))).toBe('ansible was not found on PATH');
  });

  it('keeps the argv of the command it starts', () => {
    const launcher = { python: ['/usr/bin/python3', '-s'], script: '/app/flansible_launch.py' };
    expect(throughLauncher({ command: 'ansible', args: ['--inventory=/i', '--', 'all'], cwd: '/', label: 'ansible' }, launcher)).toEqual({
      command: '/usr/bin/python3',
      args: ['-s', '/app/flansible_launch.py', 'ansible', '--inventory=/i', '--', 'all'],
      cwd: '/',
      label: 'ansible',
      env: { FLANSIBLE_SUPERVISOR_PARENT: String(process.pid) },
    });
    const git = throughLauncher({ command: 'git', args: ['-C', '/r', 'pull'], cwd: '/r', label: 'git pull', env: { GIT_CEILING_DIRECTORIES: '/' } }, launcher);
    expect(git).toMatchObject({ command: '/usr/bin/python3', args: ['-s', '/app/flansible_launch.py', '--exec', 'git', '-C', '/r', 'pull'] });
    expect(git.env).toEqual({ GIT_CEILING_DIRECTORIES: '/', FLANSIBLE_SUPERVISOR_PARENT: String(process.pid) });
  });
});
