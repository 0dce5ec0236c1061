import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobEventType, JobKind, JobOutcome, JobSpec, JobStatus } from '@flansible/contracts';
import { GatewayJobStore, RunnerJobStore } from '@flansible/store';
import { createTestGateway, TestGateway, TEST_USERS } from '../testing/create-test-gateway';

const { admin, devadmin, produser } = TEST_USERS;
type Who = { user: string; password: string };

const FAILED: JobOutcome = { status: JobStatus.Failed, reason: 'ansible exited with code 2', returnCode: 2 };

/** Ansible's recap for these hosts: failures, unreachable, ok. */
const recap = (hosts: Record<string, { failures?: number; unreachable?: number; ok?: number; rescued?: number }>) =>
  Object.fromEntries(Object.entries(hosts).map(([host, s]) => [host, { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0, ...s }]));

const MIXED = recap({ web1: { failures: 1 }, web2: { ok: 2 }, web3: { unreachable: 1 }, web4: { ok: 1, rescued: 1 } });

/**
 * POST /api/v1/jobs/{id}/relaunch in-process: which hosts, the answer, the job it stores, and
 * every refusal (400, 403, 404, 409) storing nothing. The jobs it relaunches are ended here
 * through the runner's store (the test gateway runs no job).
 */
describe('relaunch (in-process HTTP)', () => {
  let gateway: TestGateway;
  let store: GatewayJobStore;
  let runnerStore: RunnerJobStore;

  beforeAll(async () => {
    gateway = await createTestGateway();
    store = gateway.app.get(GatewayJobStore);
    runnerStore = gateway.app.get(RunnerJobStore);
  });
  afterAll(() => gateway.close());

  const post = (path: string, body: object, who: Who = admin) => gateway.http.post(path).auth(who.user, who.password).send(body);
  const relaunch = (id: string, body: object, who: Who = admin) => post(`/api/v1/jobs/${id}/relaunch`, body, who);

  /** Ends a queued job as a runner would, after events for these hosts' results. */
  async function finish(id: string, hosts: Record<string, unknown>, outcome: JobOutcome = FAILED): Promise<void> {
    expect(await runnerStore.claimJob(id, 'runner-test', new Date())).toBe(true);
    await runnerStore.appendEvents(id, [{ type: JobEventType.Stats, host: null, task: null, data: { hosts }, createdAt: new Date() }]);
    expect(await runnerStore.completeJob(id, outcome, new Date())).toBe(true);
  }

  /** Submits through the API and ends the job with `hosts` in its recap. */
  async function finishedJob(path: string, body: object, hosts: Record<string, unknown> = MIXED, who: Who = admin): Promise<string> {
    const res = await post(path, body, who);
    expect(res.status).toBe(202);
    await finish(res.body.id, hosts);
    return res.body.id;
  }

  const command = (extra: object = {}) => ({ host_pattern: 'all', module: 'ping', inventory: 'dev', ...extra });
  const book = (extra: object = {}) => ({ playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev', ...extra });

  /** A job stored as the store is trusted to hold it (rights may have changed since). */
  async function storedJob(submittedBy: string, spec: JobSpec, hosts: Record<string, unknown> = MIXED): Promise<string> {
    const id = randomUUID();
    await store.createJob({ id, submittedBy, spec, createdAt: new Date() });
    await finish(id, hosts);
    return id;
  }

  /** Where the test gateway's inventories and playbooks are: from a job it resolved. */
  async function workspacePaths(): Promise<{ dev: string; prod: string; playbook: string; playbookDir: string }> {
    const id = (await post('/api/v1/jobs/playbook', book())).body.id as string;
    const spec = (await store.findJob(id))?.spec as Extract<JobSpec, { kind: 'playbook' }>;
    return { dev: spec.inventoryPath, prod: join(spec.inventoryPath, '..', 'prod'), playbook: spec.playbookPath, playbookDir: spec.playbookDir };
  }

  describe('which hosts', () => {
    it.each([
      ['failed', ['web1']],
      ['unreachable', ['web3']],
      ['failed_and_unreachable', ['web1', 'web3']],
      ['all', ['web1', 'web2', 'web3', 'web4']],
    ])('hosts=%s runs the same request on %j', async (hosts, names) => {
      const original = await finishedJob('/api/v1/jobs/command', command({ extra_vars: { secret: 's3cret', n: 1 }, limit: 'web*', forks: 3 }));
      const res = await relaunch(original, { hosts });
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe(`/api/v1/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({
        status: 'queued',
        kind: 'command',
        submitted_by: admin.user,
        relaunch_of: original,
        request: { host_pattern: 'all', module: 'ping', limit: 'web*', limit_hosts: names, forks: 3, extra_var_names: ['secret', 'n'] },
      });
      expect(res.text).not.toContain('s3cret');
      // The stored request is the original's, extra vars included, narrowed to the hosts.
      const [before, after] = [await store.findJob(original), await store.findJob(res.body.id)];
      expect(after?.spec).toEqual({ ...before?.spec, limitHosts: names });
      expect(after?.relaunchOf).toBe(original);
    });

    it('answers relaunch_of null for a job that is no relaunch', async () => {
      const res = await post('/api/v1/jobs/command', command());
      expect(res.body.relaunch_of).toBeNull();
      expect((await gateway.http.get(`/api/v1/jobs/${res.body.id}`).auth(admin.user, admin.password)).body.relaunch_of).toBeNull();
    });

    it('relaunches a playbook with its tags, vault file, options and stored paths', async () => {
      const { dev } = await workspacePaths();
      writeFileSync(join(dev, '..', '..', 'vault', 'dev.pass'), 'vault-secret\n');
      const original = await finishedJob(
        '/api/v1/jobs/playbook',
        book({ tags: ['deploy'], skip_tags: ['slow'], check: true, timeout: 60, priority: 3, vault_file: 'dev.pass', become: true, become_user: 'root' }),
      );
      const res = await relaunch(original, { hosts: 'failed' });
      expect(res.status).toBe(202);
      const [before, after] = [await store.findJob(original), await store.findJob(res.body.id)];
      expect(after?.spec).toEqual({ ...before?.spec, limitHosts: ['web1'] });
      expect(after?.spec).toMatchObject({ vaultFile: expect.stringMatching(/\/vault\/dev\.pass$/), tags: ['deploy'], becomeUser: 'root' });
      expect(after?.priority).toBe(3);
    });

    it('takes host names from the results exactly, pattern syntax and all', async () => {
      const odd = recap({ 'web*': { failures: 1 }, '!web1': { failures: 1 }, 'a,b': { unreachable: 1 }, '~db': { failures: 2 }, '@list': { failures: 1 }, ok1: { ok: 1 } });
      const original = await finishedJob('/api/v1/jobs/command', command(), odd);
      const res = await relaunch(original, { hosts: 'failed_and_unreachable' });
      expect(res.status).toBe(202);
      expect(res.body.request.limit_hosts).toEqual(['!web1', '@list', 'a,b', 'web*', '~db']);
      // The names never become a limit pattern.
      expect(res.body.request.limit).toBeUndefined();
    });

    it('relaunches a relaunch only within the hosts of the first', async () => {
      const first = await finishedJob('/api/v1/jobs/command', command());
      const second = (await relaunch(first, { hosts: 'failed_and_unreachable' })).body.id as string;
      // Results naming a host beyond web1 and web3 (a changed inventory, say) do not widen it.
      await finish(second, recap({ web1: { failures: 1 }, web2: { failures: 1 }, web3: { ok: 1 } }));
      const third = await relaunch(second, { hosts: 'all' });
      expect(third.status).toBe(202);
      expect(third.body).toMatchObject({ relaunch_of: second, request: { limit_hosts: ['web1', 'web3'] } });
    });

    it('lets the submitter relaunch as themselves, under the guard', async () => {
      const original = await finishedJob('/api/v1/jobs/command', command(), MIXED, devadmin);
      const res = await relaunch(original, { hosts: 'failed' }, devadmin);
      expect(res.status).toBe(202);
      expect(res.body.submitted_by).toBe(devadmin.user);
      expect((await store.findJob(res.body.id))?.spec).not.toHaveProperty('unrestricted');
    });

    it("gives an admin's relaunch of another user's job the admin's unrestricted run", async () => {
      const original = await finishedJob('/api/v1/jobs/command', command(), MIXED, devadmin);
      const res = await relaunch(original, { hosts: 'failed' });
      expect(res.status).toBe(202);
      expect((await store.findJob(res.body.id))?.spec).toMatchObject({ unrestricted: true, limitHosts: ['web1'] });
    });

    it('answers the first relaunch again to an Idempotency-Key retry, and 422 for the key on another job', async () => {
      const [a, b] = [await finishedJob('/api/v1/jobs/command', command()), await finishedJob('/api/v1/jobs/command', command())];
      const key = `relaunch-${randomUUID()}`;
      const send = (id: string) => gateway.http.post(`/api/v1/jobs/${id}/relaunch`).auth(admin.user, admin.password).set('Idempotency-Key', key).send({ hosts: 'failed' });
      const first = await send(a);
      const again = await send(a);
      expect([first.status, again.status]).toEqual([202, 200]);
      expect(again.body.id).toBe(first.body.id);
      const other = await send(b);
      expect(other.status).toBe(422);
      expect(other.body.message).toContain(`/api/v1/jobs/${a}/relaunch`);
    });
  });

  describe('refusals store nothing', () => {
    async function refused(id: string, body: object, who: Who, status: number, message: RegExp | string): Promise<void> {
      const before = gateway.countJobs();
      const res = await relaunch(id, body, who);
      expect({ status: res.status, body: res.body }).toEqual({
        status,
        body: expect.objectContaining({ statusCode: status, message: typeof message === 'string' ? message : expect.stringMatching(message) }),
      });
      expect(gateway.countJobs()).toBe(before);
    }

    it.each<[string, object, RegExp]>([
      ['no body', {}, /hosts is required/],
      ['an unknown choice', { hosts: 'FAILED' }, /hosts must be one of all, failed, unreachable, failed_and_unreachable/],
      ['a list', { hosts: ['failed'] }, /hosts must be one of/],
      ['a null', { hosts: null }, /hosts is required/],
      ['extra vars from the client', { hosts: 'failed', extra_vars: { x: 1 } }, /property extra_vars should not exist/],
      ['a limit from the client', { hosts: 'failed', limit: 'all' }, /property limit should not exist/],
      ['host names from the client', { hosts: 'failed', limit_hosts: ['prod1'] }, /property limit_hosts should not exist/],
    ])('400 for %s', async (_what, body, message) => {
      const original = await finishedJob('/api/v1/jobs/command', command());
      await refused(original, body, admin, 400, message);
    });

    it('400 for host names in a fresh submission: only a relaunch sets them', async () => {
      const before = gateway.countJobs();
      const res = await post('/api/v1/jobs/command', command({ limit_hosts: ['web1'] }));
      expect(res.status).toBe(400);
      expect(gateway.countJobs()).toBe(before);
    });

    it('404 for an unknown job and for one the caller may not read', async () => {
      await refused(randomUUID(), { hosts: 'all' }, admin, 404, 'Task not found');
      const devJob = await finishedJob('/api/v1/jobs/command', command(), MIXED, devadmin);
      await refused(devJob, { hosts: 'all' }, produser, 404, 'Task not found');
    });

    it('403 for a reader of the inventory who did not submit the job', async () => {
      const adminsJob = await finishedJob('/api/v1/jobs/command', command());
      expect((await gateway.http.get(`/api/v1/jobs/${adminsJob}`).auth(devadmin.user, devadmin.password)).status).toBe(200);
      await refused(adminsJob, { hosts: 'failed' }, devadmin, 403, 'Only the user who submitted this job or an admin may relaunch it');
    });

    it('409 while the job is queued or running', async () => {
      const queued = (await post('/api/v1/jobs/command', command())).body.id as string;
      await refused(queued, { hosts: 'all' }, admin, 409, `Job ${queued} has not finished (queued): relaunch it once it has`);
      await runnerStore.claimJob(queued, 'runner-test', new Date());
      await refused(queued, { hosts: 'all' }, admin, 409, `Job ${queued} has not finished (running): relaunch it once it has`);
    });

    it('409 when no host of the results matches, or there are none', async () => {
      const allOk = await finishedJob('/api/v1/jobs/command', command(), recap({ web1: { ok: 1 }, web2: { ok: 1, rescued: 1 } }));
      for (const hosts of ['failed', 'unreachable', 'failed_and_unreachable']) {
        await refused(allOk, { hosts }, admin, 409, `No host of job ${allOk} matches hosts=${hosts}`);
      }
      const noResults = (await post('/api/v1/jobs/command', command())).body.id as string;
      await runnerStore.claimJob(noResults, 'runner-test', new Date());
      await runnerStore.completeJob(noResults, { status: JobStatus.Error, reason: 'refused', returnCode: null }, new Date());
      await refused(noResults, { hosts: 'all' }, admin, 409, `No host of job ${noResults} matches hosts=all`);
    });

    it('409 for a git update, which has no hosts', async () => {
      const git = await storedJob(admin.user, { kind: JobKind.Git, repoDir: '/srv/playbooks/repo', remote: 'origin', branch: 'master', reset: false });
      await refused(git, { hosts: 'all' }, admin, 409, `Job ${git} is a git update: it has no hosts to relaunch`);
    });

    it("403 when the caller's rights of now no longer cover the stored request", async () => {
      const { dev, prod } = await workspacePaths();
      const run = (extra: Partial<JobSpec>) => ({ kind: JobKind.Command, hostPattern: 'all', module: 'ping', inventoryPath: dev, ...extra }) as JobSpec;
      const cases: [Partial<JobSpec>, string | RegExp][] = [
        [{ inventoryPath: prod }, `User does not have access to inventory ${prod}`],
        [{ diff: true }, /diff is not granted to this user/],
        [{ verboseLevel: 3 }, /verbose_level 3 is above this user's max_verbosity \(1\)/],
        [{ extraVars: { ansible_connection: 'local' } }, /extra_vars may not set ansible_connection/],
        [{ hostPattern: '~web.*' }, /host_pattern may not use regular expressions/],
        [{ limit: 'all:~db' }, /limit may not use regular expressions/],
        [{ module: 'copy', moduleArgs: { src: '/etc/passwd', dest: '/tmp/x' } }, /copy/],
      ];
      for (const [extra, message] of cases) await refused(await storedJob(devadmin.user, run(extra)), { hosts: 'failed' }, devadmin, 403, message);
    });

    it('403 for update_git_repo without git, 404 for a playbook gone since', async () => {
      const { dev, playbook, playbookDir } = await workspacePaths();
      const spec = { kind: JobKind.Playbook, inventoryPath: dev, playbookDir, playbookPath: playbook } as const;
      const prodPaths = { ...spec, inventoryPath: join(dev, '..', 'prod') };
      await refused(await storedJob(produser.user, { ...prodPaths, updateGitRepo: true }), { hosts: 'failed' }, produser, 403, 'User may not update git repositories');
      const gone = await storedJob(admin.user, { ...spec, playbookPath: join(playbookDir, 'gone.yml') });
      expect(existsSync(join(playbookDir, 'gone.yml'))).toBe(false);
      await refused(gone, { hosts: 'failed' }, admin, 404, /Playbook not found/);
    });
  });
});
