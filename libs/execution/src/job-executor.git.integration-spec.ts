import { GitJobSpec, JobKind, JobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildChildEnv } from './child-env';
import { buildGitInvocations } from './invocation';
import { runProcess } from './process-runner';
import { play, useJobExecutor } from './testing/job-executor-harness';

jest.setTimeout(30_000);

/** Git jobs and update_git_repo, against a local upstream repository. */
const { sandbox, execute, playbook } = useJobExecutor();

describe('JobExecutor with real Ansible on localhost', () => {
  describe('git', () => {
    const gitSetup = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, stdio: 'pipe' });
    let upstream: string;
    let checkout: string;

    beforeAll(async () => {
      upstream = join(sandbox().root, 'upstream');
      await mkdir(upstream);
      gitSetup(upstream, 'init', '-q', '-b', 'main');
      await writeFile(join(upstream, 'site.yml'), play('debug: msg="version-one"'));
      gitSetup(upstream, 'add', '.');
      gitSetup(upstream, 'commit', '-q', '-m', 'one');
      checkout = join(sandbox().config.playbookRoot, 'repo');
      gitSetup(sandbox().root, 'clone', '-q', upstream, checkout);
    });

    const commitUpstream = async (message: string) => {
      await writeFile(join(upstream, 'site.yml'), play(`debug: msg="${message}"`));
      gitSetup(upstream, 'commit', '-q', '-am', message);
    };

    it('pulls a branch', async () => {
      await commitUpstream('version-two');
      const git: GitJobSpec = { kind: JobKind.Git, repoDir: checkout, remote: 'origin', branch: 'main', reset: false };
      const { outcome, spawned, launchPath } = await execute(git);
      expect(outcome).toEqual({ status: 'successful', reason: null, returnCode: 0 });
      expect(spawned.map((s) => s.label)).toEqual(['git pull']);
      // git never forks from the warm runner: it is not Ansible.
      expect(launchPath).toBe('cold');
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
      const { outcome, output, spawned, launchPath } = await execute(
        playbook(join(checkout, 'site.yml'), { playbookDir: checkout, updateGitRepo: true }),
      );
      expect(outcome.status).toBe('successful');
      expect(spawned.map((s) => s.label)).toEqual(['git pull', 'ansible-playbook']);
      // The pull ran cold; the job's path is its playbook's.
      expect(launchPath).toBe('warm');
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
      // sandbox().root becomes a repository whose tracked file has an uncommitted change (a
      // rotated password in rbac.json, say), with itself as origin so a fetch and reset succeed.
      const tracked = () => join(sandbox().root, 'tracked.txt');
      let plain: string;

      beforeAll(async () => {
        plain = join(sandbox().config.playbookRoot, 'plain');
        await mkdir(join(plain, 'sub'), { recursive: true });
        await writeFile(join(plain, 'site.yml'), play('debug: msg="should-not-run"'));
        await writeFile(tracked(), 'original\n');
        gitSetup(sandbox().root, 'init', '-q', '-b', 'main');
        gitSetup(sandbox().root, 'add', 'tracked.txt');
        gitSetup(sandbox().root, 'commit', '-q', '-m', 'tracked');
        gitSetup(sandbox().root, 'remote', 'add', 'origin', sandbox().root);
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
          const result = await runProcess(invocation, { env: { ...buildChildEnv(process.env, sandbox().config.dataDir), ...invocation.env }, onOutput: () => undefined });
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
