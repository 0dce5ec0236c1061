import { JobKind, JobSpec } from '@flansible/contracts';
import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { play, useJobExecutor } from './testing/job-executor-harness';

jest.setTimeout(30_000);

/** What a job must never do: template its arguments, run shell metacharacters, reach outside its roots. */
const { sandbox, execute, command, playbook } = useJobExecutor();

describe('JobExecutor with real Ansible on localhost', () => {
  it('never templates object module args, so a lookup cannot run commands on this host', async () => {
    const canary = join(sandbox().root, 'canary-module-args');
    const msg = `{{ lookup('pipe', 'touch ${canary}') }}`;
    const { outcome, output } = await execute(command({ module: 'debug', moduleArgs: { msg } }));
    expect(outcome.status).toBe('successful');
    expect(output).toContain(`"msg": "${msg}"`);
    expect(existsSync(canary)).toBe(false);
  });

  it('never lets shell metacharacters run anything', async () => {
    const canary = join(sandbox().root, 'canary-xyz');
    const attacks = [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `| touch ${canary}`, `&& touch ${canary}`];
    const results = [
      ...(await Promise.all(attacks.map((moduleArgs) => execute(command({ moduleArgs }))))),
      await execute(command({ module: 'debug', moduleArgs: { msg: attacks.join(' ') } })),
      await execute(command({ hostPattern: `localhost; touch ${canary}` })),
      await execute(command({ becomeUser: `root$(touch ${canary})` })),
      await execute({ kind: JobKind.Git, repoDir: sandbox().playbookDir, remote: `origin; touch ${canary}`, branch: 'main', reset: false }),
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

  describe('paths outside their roots', () => {
    it.each<[string, () => Promise<JobSpec>, RegExp]>([
      ['an inventory outside the inventory root', async () => command({ inventoryPath: '/etc/hosts' }), /^Inventory is outside/],
      [
        'an inventory symlinked out of its root',
        async () => {
          const link = join(sandbox().config.inventoryRoot, 'escape');
          await symlink('/etc/hosts', link).catch(() => undefined);
          return command({ inventoryPath: link });
        },
        /^Inventory is outside/,
      ],
      ['a missing inventory', async () => command({ inventoryPath: join(sandbox().config.inventoryRoot, 'nope') }), /^Inventory not found/],
      [
        'a playbook outside the playbook root',
        async () => playbook(join(sandbox().config.inventoryRoot, 'local')),
        /^Playbook is outside/,
      ],
      [
        'a vault file outside the vault root',
        async () => playbook(await sandbox().writePlaybook('ok.yml', play('ping:')), { vaultFile: sandbox().inventoryPath }),
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
});
