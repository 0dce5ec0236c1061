import { eventually } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { LIMITED_USERS } from '../support/fixture';
import { DEVADMIN } from './hostile-input.cases';

/** rbac.json rights: granted per user, and held for the whole life of a job, the same in both deployments. */
export function describeRights(kind: DeploymentKind): void {
  describe(`rights (${kind})`, () => {
    // One job at a time, so a second one waits in the queue while rbac.json changes.
    const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 1 });
    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    /** The processes that check rights: the gateway, and in the distributed deployment the runner. */
    const checkers = () => [deployment.gateway, ...deployment.runners];
    /** Rewrites rbac.json and waits until every process has the new file in effect. */
    async function replaceRbac(entries: readonly object[]): Promise<void> {
      const reloads = checkers().map((p) => (p.logs.match(/Reloaded .*rbac\.json/g) ?? []).length);
      deployment.fixture.writeRbac(entries);
      await Promise.all(
        checkers().map((p, i) => p.waitForLog(new RegExp(`(Reloaded .*rbac\\.json[^]*){${reloads[i] + 1}}`), 15_000)),
      );
    }
    const defaultUsers = () => deployment.fixture.defaultRbac() as { user: string }[];
    afterEach(() => replaceRbac(defaultUsers()));

    it('ends a queued job whose submitter lost the inventory meanwhile as error, running nothing', async () => {
      const admin = deployment.api.sdk;
      const blocker = await deployment.api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 60 } });
      await eventually(async () => (await admin.getJob(blocker)).status === 'running', 'the blocking job runs');
      const queued = await deployment.api.as(DEVADMIN).submit('/api/v1/jobs/command', { host_pattern: 'all', inventory: 'dev', module: 'ping' });
      expect((await admin.getJob(queued)).status).toBe('queued');

      const stagingOnly = { user: DEVADMIN.user, password: DEVADMIN.password, inventories: ['staging'] };
      await replaceRbac([...defaultUsers().filter((u) => u.user !== DEVADMIN.user), stagingOnly]);
      await admin.cancelJob(blocker);

      const ended = await admin.waitForJob(queued, { timeoutMs: 30_000, intervalMs: 100 });
      expect(ended).toMatchObject({
        status: 'error',
        reason: `submitter no longer allowed: inventory ${deployment.fixture.inventoryRoot}/dev`,
      });
      expect(await admin.getJobOutputText(queued)).toBe('');
    });

    it('lets a non-admin update git repositories only once their entry says "git": true', async () => {
      const produser = LIMITED_USERS.produser;
      const as = deployment.api.as(produser);
      const pull = { playbook_dir: 'repo' };
      const refused = await as.post<{ message: string }>('/api/git', pull);
      expect([refused.status, refused.body.message]).toEqual([403, 'User may not update git repositories']);
      const update = { playbook_dir: 'repo', playbook: 'site.yml', inventory: 'prod', update_git_repo: true };
      expect((await as.post('/api/ansibleplaybook', update)).status).toBe(403);

      await replaceRbac([...defaultUsers().filter((u) => u.user !== produser.user), { ...produser, git: true }]);
      const granted = await as.submit('/api/git', pull);
      expect(await as.waitForTask(granted)).toMatchObject({ Status: 'SUCCESS' });
    });

    it('lets a user have more output detail and special tags only as rbac.json grants', async () => {
      const detail = { user: 'detail', password: 'detailpassword', inventories: ['dev'], max_verbosity: 3, diff: true, tags: ['alpha', 'never'] };
      await replaceRbac([...defaultUsers(), detail]);
      const as = deployment.api.as(detail);
      const book = { playbook_dir: 'app', playbook: 'tagged.yml', inventory: 'dev' };

      const granted = await as.post<{ id: string }>('/api/v1/jobs/playbook', { ...book, verbose_level: 3, diff: true, tags: ['alpha'] });
      expect(granted.status).toBe(202);
      const job = await deployment.api.sdk.waitForJob(granted.body.id, { timeoutMs: 60_000, intervalMs: 100 });
      expect(job.status).toBe('successful');
      const output = await deployment.api.sdk.getJobOutputText(granted.body.id);
      expect(output).toContain('tagged-alpha');
      expect(output).not.toContain('tagged-beta');

      // Above the grant, and a tag outside the user's list.
      expect((await as.post('/api/v1/jobs/playbook', { ...book, verbose_level: 4 })).status).toBe(403);
      expect((await as.post('/api/v1/jobs/playbook', { ...book, tags: ['beta'] })).status).toBe(403);
      // `never` is listed for this user; skipping `always` is not.
      expect((await as.post('/api/v1/jobs/playbook', { ...book, tags: ['never'] })).status).toBe(202);
      expect((await as.post('/api/v1/jobs/playbook', { ...book, skip_tags: ['always'] })).status).toBe(403);
    });
  });
}
