import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { play, useJobExecutor } from './testing/job-executor-harness';

jest.setTimeout(30_000);

/** What a job runs and what it stores: output, extra vars, vault, environment. Timeouts, confinement and git have their own files. */
const { sandbox, execute, command, playbook } = useJobExecutor();

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
    const path = await sandbox().writePlaybook('fail.yml', play('fail: msg="deliberate failure"'));
    const { outcome, output } = await execute(playbook(path));
    expect(outcome).toEqual({ status: 'failed', reason: 'ansible-playbook exited with code 2', returnCode: 2 });
    expect(output).toContain('deliberate failure');
    expect(output).toContain('failed=1');
  });

  it('appends output while the playbook runs, in several batches', async () => {
    // The second task waits until the store holds the first task's output: so that output was
    // provably visible before the process ended.
    const gate = join(sandbox().root, 'gate-open');
    const path = await sandbox().writePlaybook(
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
    const path = await sandbox().writePlaybook(
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
    const canary = join(sandbox().root, 'canary-lookup');
    const path = await sandbox().writePlaybook(
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
    expect(await readdir(join(sandbox().config.dataDir, 'tmp'))).toEqual(['ansible-local']);
    expect(existsSync(canary)).toBe(false);
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
      process.env.PATH = join(sandbox().root, 'empty-path');
      const { outcome } = await execute(command());
      expect(outcome).toEqual({ status: 'error', reason: 'Could not start ansible: ansible was not found on PATH', returnCode: null });
    });
  });

  it('opens a vault with the vault password file', async () => {
    const passwordFile = join(sandbox().config.vaultRoot, 'dev.txt');
    await writeFile(passwordFile, 'vault-password\n', { mode: 0o600 });
    const varsFile = join(sandbox().playbookDir, 'secret.yml');
    await writeFile(varsFile, 'secret_word: swordfish\n');
    execFileSync('ansible-vault', ['encrypt', `--vault-password-file=${passwordFile}`, '--', varsFile], { stdio: 'ignore' });
    const path = await sandbox().writePlaybook('vault.yml', `${play('debug: var=secret_word')}  vars_files: [secret.yml]\n`);
    const { outcome, output } = await execute(playbook(path, { vaultFile: passwordFile }));
    expect(outcome.status).toBe('successful');
    expect(output).toContain('"secret_word": "swordfish"');
  });
});
