import { CommandJobSpec, GitJobSpec, JobKind, JobOutcome, JobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { WorkspaceService } from '@flansible/workspace';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecuteJobOptions, JobExecutor } from './job-executor';
import { buildChildEnv } from './child-env';
import { buildGitInvocations, Invocation } from './invocation';
import { processGroupIsAlive, runProcess } from './process-runner';
import { AnsibleSandbox, createAnsibleSandbox } from './testing/ansible-sandbox';

jest.setTimeout(30_000);

let sandbox: AnsibleSandbox;
let executor: JobExecutor;

beforeAll(async () => {
  sandbox = await createAnsibleSandbox();
  executor = new JobExecutor(sandbox.config, new WorkspaceService(sandbox.config));
});
afterAll(() => sandbox.dispose());

interface Execution {
  outcome: JobOutcome;
  output: string;
  chunks: string[];
  spawned: Invocation[];
}

async function execute(spec: JobSpec, options: Partial<ExecuteJobOptions> = {}): Promise<Execution> {
  const chunks: string[] = [];
  const spawned: Invocation[] = [];
  const outcome = await executor.execute(spec, {
    appendOutput: async (chunk) => void chunks.push(chunk),
    ...options,
    onSpawn: (pid, invocation) => {
      spawned.push(invocation);
      options.onSpawn?.(pid, invocation);
    },
  });
  return { outcome, output: chunks.join(''), chunks, spawned };
}

const command = (overrides: Partial<CommandJobSpec> = {}): CommandJobSpec => ({
  kind: JobKind.Command,
  inventoryPath: sandbox.inventoryPath,
  hostPattern: 'localhost',
  module: 'ping',
  ...overrides,
});

const playbook = (playbookPath: string, overrides: Partial<PlaybookJobSpec> = {}): PlaybookJobSpec => ({
  kind: JobKind.Playbook,
  inventoryPath: sandbox.inventoryPath,
  playbookDir: sandbox.playbookDir,
  playbookPath,
  ...overrides,
});

const play = (...tasks: string[]) =>
  `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.map((t) => `    - ${t.replace(/\n/g, '\n      ')}\n`).join('')}`;

/** Live (non-zombie) processes whose command line contains `text`. */
async function processesRunning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3), () => 'X');
    if (cmdline.replace(/\0/g, ' ').includes(text) && state !== 'Z' && state !== 'X') found.push(Number(pid));
  }
  return found;
}

describe('JobExecutor with real Ansible on localhost', () => {
  it('runs an ad-hoc ping', async () => {
    const { outcome, output } = await execute(command());
    expect(outcome).toEqual({ status: 'successful', reason: null, returnCode: 0 });
    expect(output).toContain('localhost | SUCCESS');
    expect(output).toContain('"ping": "pong"');
  });

  it('runs the find module with object module_args', async () => {
    const { outcome, output } = await execute(
      command({ module: 'find', moduleArgs: { paths: '/tmp', age: '2d', recurse: true }, forks: 2, verboseLevel: 1 }),
    );
    expect(outcome.status).toBe('successful');
    expect(output).toContain('localhost | SUCCESS');
    expect(output).toContain('"examined"');
  });

  it('records a failing playbook as failed with return code 2', async () => {
    const path = await sandbox.writePlaybook('fail.yml', play('fail: msg="deliberate failure"'));
    const { outcome, output } = await execute(playbook(path));
    expect(outcome).toEqual({ status: 'failed', reason: 'ansible-playbook exited with code 2', returnCode: 2 });
    expect(output).toContain('deliberate failure');
    expect(output).toContain('failed=1');
  });

  it('appends output while the playbook runs, in several batches', async () => {
    // The second task waits until the store holds the first task's output: so that output was
    // provably visible before the process ended.
    const gate = join(sandbox.root, 'gate-open');
    const path = await sandbox.writePlaybook(
      'slow.yml',
      play('debug: msg="first-marker"', `wait_for: path=${gate} timeout=60`, 'debug: msg="second-marker"'),
    );
    const appendOutput = jest.fn(async (chunk: string) => {
      if (chunk.includes('first-marker')) await writeFile(gate, '');
    });
    const { outcome } = await execute(playbook(path), { appendOutput });
    expect(outcome.status).toBe('successful');
    const chunks = appendOutput.mock.calls.map(([chunk]) => chunk);
    const first = chunks.findIndex((c) => c.includes('first-marker'));
    const second = chunks.findIndex((c) => c.includes('second-marker'));
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    expect(chunks.join('')).toMatch(/PLAY RECAP[\s\S]*ok=3/);
  });

  it('stores output up to the limit only, runs the job to its end, and says how much it dropped', async () => {
    const path = await sandbox.writePlaybook(
      'loud.yml',
      play('debug: msg="{{ range(1, 5000) | list }}"', 'debug: msg="after-the-loud-task"'),
    );
    const { outcome, output } = await execute(playbook(path), { batching: { maxStoredBytes: 2048 } });
    // The job ran on: both tasks, the recap and a successful end, none of it stored.
    expect(outcome).toEqual({ status: 'successful', reason: null, returnCode: 0 });
    const [kept, notice, rest] = output.split(/\n(?=\[flansible\] output limit)/);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(2048);
    expect(kept).toContain('PLAY [all]');
    expect(output).not.toContain('after-the-loud-task');
    expect(notice).toMatch(/^\[flansible\] output limit of 0\.002 MiB reached: \d+ lines \(\d+\.\d KiB\) not stored\n$/);
    expect(rest).toBeUndefined();
  });

  it('hands extra vars over in a private file, never templated, and deletes it afterwards', async () => {
    const canary = join(sandbox.root, 'canary-lookup');
    const path = await sandbox.writePlaybook(
      'vars.yml',
      play('debug: msg="{{ greeting }} {{ count + 1 }} {{ nested.things[1] }} {{ sneaky }}"'),
    );
    let extraVarsFile = '';
    let mode = 0;
    const { outcome, output, spawned } = await execute(
      playbook(path, {
        extraVars: {
          greeting: 'hello from extra vars',
          count: 41,
          nested: { things: [1, 'two'] },
          sneaky: `{{ lookup('pipe', 'touch ${canary}') }}`,
        },
      }),
      {
        onSpawn: async (_pid, invocation) => {
          extraVarsFile = invocation.args.find((a) => a.startsWith('--extra-vars=@'))!.slice('--extra-vars=@'.length);
          mode = (await stat(extraVarsFile)).mode & 0o777;
        },
      },
    );
    expect(outcome.status).toBe('successful');
    expect(output).toContain(`hello from extra vars 42 two {{ lookup('pipe', 'touch ${canary}') }}`);
    expect(spawned[0].args.join(' ')).not.toContain('hello from extra vars');
    expect(mode).toBe(0o600);
    expect(existsSync(extraVarsFile)).toBe(false);
    expect(await readdir(join(sandbox.config.dataDir, 'tmp'))).toEqual(['ansible-local']);
    expect(existsSync(canary)).toBe(false);
  });

  it('never templates object module args, so a lookup cannot run commands on this host', async () => {
    const canary = join(sandbox.root, 'canary-module-args');
    const msg = `{{ lookup('pipe', 'touch ${canary}') }}`;
    const { outcome, output } = await execute(command({ module: 'debug', moduleArgs: { msg } }));
    expect(outcome.status).toBe('successful');
    expect(output).toContain(`"msg": "${msg}"`);
    expect(existsSync(canary)).toBe(false);
  });

  it('never lets shell metacharacters run anything', async () => {
    const canary = join(sandbox.root, 'canary-xyz');
    const attacks = [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `| touch ${canary}`, `&& touch ${canary}`];
    const results = [
      ...(await Promise.all(attacks.map((moduleArgs) => execute(command({ moduleArgs }))))),
      await execute(command({ module: 'debug', moduleArgs: { msg: attacks.join(' ') } })),
      await execute(command({ hostPattern: `localhost; touch ${canary}` })),
      await execute(command({ becomeUser: `root$(touch ${canary})` })),
      await execute({ kind: JobKind.Git, repoDir: sandbox.playbookDir, remote: `origin; touch ${canary}`, branch: 'main', reset: false }),
    ];
    expect(existsSync(canary)).toBe(false);
    // The debug message arrives as plain text.
    expect(results[attacks.length].outcome.status).toBe('successful');
    expect(results[attacks.length].output).toContain(attacks.join(' ').replace(/"/g, '\\"'));
    // Values outside the field grammar are refused before anything runs.
    for (const refused of results.slice(attacks.length + 1)) {
      expect(refused.outcome.status).toBe('error');
      expect(refused.spawned).toEqual([]);
    }
  });

  it('on timeout stops the whole process tree, grandchildren included', async () => {
    const marker = '301.4567';
    const path = await sandbox.writePlaybook('hang.yml', play(`command: sleep ${marker}`));
    let pgid = 0;
    let sawSleep = false;
    const watcher = setInterval(async () => {
      if ((await processesRunning(`sleep ${marker}`)).length) sawSleep = true;
    }, 100);
    const { outcome } = await execute(playbook(path), {
      timeoutSeconds: 5,
      killGraceMs: 1_000,
      onSpawn: (pid) => (pgid = pid),
    }).finally(() => clearInterval(watcher));
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 5 s', returnCode: null });
    expect(sawSleep).toBe(true);
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('stops a job whose output stays silent for the idle timeout, as timed_out, leaving nothing behind', async () => {
    const marker = '302.4567';
    const path = await sandbox.writePlaybook('idle.yml', play('debug: msg="before-the-silence"', `command: sleep ${marker}`));
    let pgid = 0;
    const { outcome, output } = await execute(playbook(path), {
      idleTimeoutSeconds: 3,
      killGraceMs: 1_000,
      onSpawn: (pid) => (pgid = pid),
    });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'No output for 3 s', returnCode: null });
    expect(output).toContain('before-the-silence');
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('takes the job’s own timeout when it is below the configured one', async () => {
    const marker = '303.4567';
    const path = await sandbox.writePlaybook('own-timeout.yml', play(`command: sleep ${marker}`));
    expect(sandbox.config.taskTimeoutSeconds).toBe(120);
    const { outcome } = await execute(playbook(path, { timeoutSeconds: 3 }), { killGraceMs: 1_000 });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 3 s', returnCode: null });
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('caps the job’s own timeout at the configured one', async () => {
    const marker = '304.4567';
    const path = await sandbox.writePlaybook('capped-timeout.yml', play(`command: sleep ${marker}`));
    const { outcome } = await execute(playbook(path, { timeoutSeconds: 3_600 }), { timeoutSeconds: 3, killGraceMs: 1_000 });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 3 s', returnCode: null });
  });

  it('refuses a timeout that is not a whole number of seconds', async () => {
    const { outcome, spawned } = await execute(command({ timeoutSeconds: 0 }));
    expect(outcome).toEqual({ status: 'error', reason: 'timeoutSeconds must be a whole number from 1 to 604800', returnCode: null });
    expect(spawned).toEqual([]);
  });

  describe('environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    });

    it('keeps the service’s own settings away from the modules it runs', async () => {
      process.env.FLANSIBLE_DATABASE_URL = 'postgres://flansible:db-secret@127.0.0.1/flansible';
      process.env.FLANSIBLE_AMQP_URL = 'amqp://guest:mq-secret@127.0.0.1';
      const { outcome, output } = await execute(command({ module: 'command', moduleArgs: 'env' }));
      expect(outcome.status).toBe('successful');
      expect(output).toContain('PYTHONUNBUFFERED=1');
      expect(output).not.toMatch(/FLANSIBLE_|secret/);
    });

    it('ends as error with a reason when ansible cannot be found', async () => {
      process.env.PATH = join(sandbox.root, 'empty-path');
      const { outcome } = await execute(command());
      expect(outcome).toEqual({ status: 'error', reason: 'Could not start ansible: ansible was not found on PATH', returnCode: null });
    });
  });

  it('opens a vault with the vault password file', async () => {
    const passwordFile = join(sandbox.config.vaultRoot, 'dev.txt');
    await writeFile(passwordFile, 'vault-password\n', { mode: 0o600 });
    const varsFile = join(sandbox.playbookDir, 'secret.yml');
    await writeFile(varsFile, 'secret_word: swordfish\n');
    execFileSync('ansible-vault', ['encrypt', `--vault-password-file=${passwordFile}`, '--', varsFile], { stdio: 'ignore' });
    const path = await sandbox.writePlaybook('vault.yml', `${play('debug: var=secret_word')}  vars_files: [secret.yml]\n`);
    const { outcome, output } = await execute(playbook(path, { vaultFile: passwordFile }));
    expect(outcome.status).toBe('successful');
    expect(output).toContain('"secret_word": "swordfish"');
  });

  describe('paths outside their roots', () => {
    it.each<[string, () => Promise<JobSpec>, RegExp]>([
      ['an inventory outside the inventory root', async () => command({ inventoryPath: '/etc/hosts' }), /^Inventory is outside/],
      [
        'an inventory symlinked out of its root',
        async () => {
          const link = join(sandbox.config.inventoryRoot, 'escape');
          await symlink('/etc/hosts', link).catch(() => undefined);
          return command({ inventoryPath: link });
        },
        /^Inventory is outside/,
      ],
      ['a missing inventory', async () => command({ inventoryPath: join(sandbox.config.inventoryRoot, 'nope') }), /^Inventory not found/],
      [
        'a playbook outside the playbook root',
        async () => playbook(join(sandbox.config.inventoryRoot, 'local')),
        /^Playbook is outside/,
      ],
      [
        'a vault file outside the vault root',
        async () => playbook(await sandbox.writePlaybook('ok.yml', play('ping:')), { vaultFile: sandbox.inventoryPath }),
        /^Vault password file is outside/,
      ],
      ['a repository outside the playbook root', async () => ({ kind: JobKind.Git, repoDir: '/tmp', remote: 'origin', branch: 'main', reset: false }), /^Repository directory is outside/],
    ])('refuses %s without running anything', async (_what, spec, reason) => {
      const { outcome, spawned } = await execute(await spec());
      expect(outcome.status).toBe('error');
      expect(outcome.reason).toMatch(reason);
      expect(spawned).toEqual([]);
    });
  });

  describe('git', () => {
    const gitSetup = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, stdio: 'pipe' });
    let upstream: string;
    let checkout: string;

    beforeAll(async () => {
      upstream = join(sandbox.root, 'upstream');
      await mkdir(upstream);
      gitSetup(upstream, 'init', '-q', '-b', 'main');
      await writeFile(join(upstream, 'site.yml'), play('debug: msg="version-one"'));
      gitSetup(upstream, 'add', '.');
      gitSetup(upstream, 'commit', '-q', '-m', 'one');
      checkout = join(sandbox.config.playbookRoot, 'repo');
      gitSetup(sandbox.root, 'clone', '-q', upstream, checkout);
    });

    const commitUpstream = async (message: string) => {
      await writeFile(join(upstream, 'site.yml'), play(`debug: msg="${message}"`));
      gitSetup(upstream, 'commit', '-q', '-am', message);
    };

    it('pulls a branch', async () => {
      await commitUpstream('version-two');
      const git: GitJobSpec = { kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'main', reset: false };
      const { outcome, spawned } = await execute(git);
      expect(outcome).toEqual({ status: 'successful', reason: null, returnCode: 0 });
      expect(spawned.map((s) => s.label)).toEqual(['git pull']);
      expect(await readFile(join(checkout, 'site.yml'), 'utf8')).toContain('version-two');
    });

    it('fetches and hard-resets before pulling when asked', async () => {
      await writeFile(join(checkout, 'site.yml'), 'local change\n');
      await commitUpstream('version-three');
      const git: GitJobSpec = { kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'main', reset: true };
      const { outcome, output, spawned } = await execute(git);
      expect(outcome.status).toBe('successful');
      expect(spawned.map((s) => s.label)).toEqual(['git fetch', 'git reset', 'git pull']);
      expect(output).toContain('HEAD is now at');
      expect(await readFile(join(checkout, 'site.yml'), 'utf8')).toContain('version-three');
    });

    it('fails with git’s return code when the branch does not exist', async () => {
      const git: GitJobSpec = { kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'no-such-branch', reset: false };
      const { outcome } = await execute(git);
      expect(outcome).toEqual({ status: 'failed', reason: 'git pull exited with code 1', returnCode: 1 });
    });

    it('updates the playbook directory before running the playbook', async () => {
      await commitUpstream('version-four');
      const { outcome, output, spawned } = await execute(
        playbook(join(checkout, 'site.yml'), { playbookDir: checkout, updateGitRepo: true }),
      );
      expect(outcome.status).toBe('successful');
      expect(spawned.map((s) => s.label)).toEqual(['git pull', 'ansible-playbook']);
      expect(output).toMatch(/Fast-forward[\s\S]*version-four/);
    });

    it('does not run the playbook when the update fails', async () => {
      const git: GitJobSpec = { kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'main', reset: false };
      const path = join(checkout, 'site.yml');
      // A local commit that diverged from upstream: the fast-forward-only pull fails.
      await writeFile(path, play('debug: msg="should-not-run"'));
      gitSetup(checkout, 'commit', '-q', '-am', 'diverge');
      await commitUpstream('version-five');
      const { outcome, output, spawned } = await execute(playbook(path, { playbookDir: checkout, updateGitRepo: true }));
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toBe('Updating the playbook repository failed, the playbook did not run: git pull exited with code 128');
      expect(spawned.map((s) => s.label)).toEqual(['git pull']);
      expect(output).not.toContain('should-not-run');
      gitSetup(checkout, 'reset', '-q', '--hard', 'origin/main');
      expect((await execute(git)).outcome.status).toBe('successful');
    });

    describe('inside an enclosing repository', () => {
      // sandbox.root becomes a repository whose tracked file has an uncommitted change (a
      // rotated password in rbac.json, say), with itself as origin so a fetch and reset succeed.
      const tracked = () => join(sandbox.root, 'tracked.txt');
      let plain: string;

      beforeAll(async () => {
        plain = join(sandbox.config.playbookRoot, 'plain');
        await mkdir(join(plain, 'sub'), { recursive: true });
        await writeFile(join(plain, 'site.yml'), play('debug: msg="should-not-run"'));
        await writeFile(tracked(), 'original\n');
        gitSetup(sandbox.root, 'init', '-q', '-b', 'main');
        gitSetup(sandbox.root, 'add', 'tracked.txt');
        gitSetup(sandbox.root, 'commit', '-q', '-m', 'tracked');
        gitSetup(sandbox.root, 'remote', 'add', 'origin', sandbox.root);
        await writeFile(tracked(), 'rotated\n');
      });

      it.each([
        ['a git job with reset on a plain directory', () => ({ kind: JobKind.Git, repoDir: plain, remote: 'origin', branch: 'main', reset: true })],
        ['a git job on a subdirectory of a checkout', () => ({ kind: JobKind.Git, repoDir: join(plain, 'sub'), remote: 'origin', branch: 'main', reset: true })],
        ['update_git_repo on a plain directory', () => playbook(join(plain, 'site.yml'), { playbookDir: plain, updateGitRepo: true })],
      ] as [string, () => JobSpec][])('refuses %s without running git', async (_what, spec) => {
        const job = spec();
        const dir = job.kind === JobKind.Git ? job.repoDir : (job as PlaybookJobSpec).playbookDir;
        const { outcome, output, spawned } = await execute(job);
        expect(outcome).toEqual({ status: 'error', reason: `Not a git repository: ${dir}`, returnCode: null });
        expect(spawned).toEqual([]);
        expect(output).not.toContain('should-not-run');
        expect(await readFile(tracked(), 'utf8')).toBe('rotated\n');
      });

      it('pins the git commands themselves to the checkout: run on a plain directory, they find no repository', async () => {
        // What would run had the check been skipped: git must not fall back to the enclosing repository.
        for (const invocation of buildGitInvocations({ kind: JobKind.Git, repoDir: plain, remote: 'origin', branch: 'main', reset: true })) {
          const result = await runProcess(invocation, { env: { ...buildChildEnv(process.env, sandbox.config.dataDir), ...invocation.env }, onOutput: () => undefined });
          expect(result.exitCode).not.toBe(0);
        }
        expect(await readFile(tracked(), 'utf8')).toBe('rotated\n');
      });

      it('still pulls the checkout inside it', async () => {
        await commitUpstream('version-six');
        const { outcome } = await execute({ kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'main', reset: true });
        expect(outcome.status).toBe('successful');
        expect(await readFile(join(checkout, 'site.yml'), 'utf8')).toContain('version-six');
        expect(await readFile(tracked(), 'utf8')).toBe('rotated\n');
      });
    });
  });
});
