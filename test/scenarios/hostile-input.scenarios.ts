import { Deployment, DeploymentKind } from '../support/deployment';
import { ADMIN, DEVADMIN, HostileCase, NARROW, PRODUSER, VAULTUSER, hostileCases, numericInputCases } from './hostile-input.cases';

/**
 * The hostile-input suite: each case must get its status with the shared error body, run nothing
 * (canary) and queue nothing (job count). `sample` picks the cases run against this deployment.
 */
export function describeHostileInput(kind: DeploymentKind, sample: (cases: HostileCase[]) => HostileCase[] = (c) => c): void {
  describe(`hostile input (${kind})`, () => {
    // Built now so the cases (which name fixture paths) exist when the tests are declared.
    const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 2 });
    const cases = sample(hostileCases(deployment.fixture));

    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    it.each(cases.map((c) => [`[${c.attack}] ${c.name}`, c] as const))('%s', async (_title, c) => {
      const before = await deployment.countJobs();
      const client = deployment.api.as(c.as ?? ADMIN);
      const res = c.raw
        ? await client.request('POST', c.path, { rawBody: c.raw.body, contentType: c.raw.contentType })
        : await client.request('POST', c.path, { json: c.body });
      expect({ status: res.status, body: res.body }).toEqual({
        status: c.status,
        body: expect.objectContaining({ statusCode: c.status, error: expect.any(String), message: expect.any(String) }),
      });
      expect(res.text).not.toMatch(/ at .*\.js:\d+|password/i);
      expect(await deployment.countJobs()).toBe(before);
      expect(deployment.fixture.canaryExists()).toBe(false);
      expect(deployment.fixture.enclosingRepositoryUntouched()).toBe(true);
    });

    describe('numbers beyond the store columns', () => {
      let job: string;
      beforeAll(async () => {
        job = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
        await deployment.api.waitForTask(job);
      });

      it.each(numericInputCases().map((c) => [c.name, c] as const))('%s', async (_title, c) => {
        const res = await deployment.api.request('GET', `/api/v1/jobs${c.path.replace('{job}', job)}`, {
          headers: c.lastEventId === undefined ? {} : { 'last-event-id': c.lastEventId },
        });
        const type = res.headers.get('content-type') ?? '';
        if (c.status === 400) {
          // A JSON answer, not a stream started and then cut off.
          expect({ status: res.status, type, body: res.body }).toEqual({
            status: 400,
            type: expect.stringMatching(/^application\/json/),
            body: { statusCode: 400, error: 'Bad Request', message: c.message },
          });
        } else {
          expect({ status: res.status, type }).toEqual({ status: 200, type: expect.stringMatching(c.lastEventId ? /^text\/event-stream/ : /^application\/json/) });
          if (c.lastEventId) expect(res.text).toContain('event: end');
        }
      });

      it('left no store error or cut-off stream in the gateway log', () => {
        expect(deployment.gateway.logs).not.toMatch(/ERR_HTTP_HEADERS_SENT|AllErrorsFilter|out of range for type|invalid input syntax/);
      });
    });

    it('refuses git on a directory that is not itself a repository, leaving the enclosing repository alone', async () => {
      const fixture = deployment.fixture;
      const attempts: [typeof ADMIN, string, Record<string, unknown>][] = [
        [DEVADMIN, '/api/git', { playbook_dir: 'plain', remote_name: 'origin', branch_name: 'master', reset: true }],
        [ADMIN, '/api/git', { playbook_dir: 'plain', reset: true }],
        [ADMIN, '/api/ansibleplaybook', { playbook_dir: 'plain', playbook: 'site.yml', update_git_repo: true }],
        [ADMIN, '/api/v1/jobs/playbook', { playbook_dir: 'plain', playbook: 'site.yml', update_git_repo: true }],
      ];
      for (const [who, path, body] of attempts) {
        const res = await deployment.api.as(who).request<{ task_id?: string; id?: string; message?: string }>('POST', path, { json: body });
        // Were it accepted, let the job run its course before looking at the canary.
        const id = res.body.task_id ?? res.body.id;
        if (id) await deployment.api.waitForTask(id);
        expect({ path, status: res.status, message: res.body.message }).toEqual({ path, status: 404, message: 'Not a git repository: plain' });
        expect(fixture.enclosingRepositoryUntouched()).toBe(true);
      }
    });

    it('still updates a real checkout inside the playbook root', async () => {
      const fixture = deployment.fixture;
      const api = deployment.api.as(DEVADMIN);
      const reset = await api.submit('/api/git', { playbook_dir: fixture.repoDir, remote_name: 'origin', branch_name: 'master', reset: true });
      expect(await api.waitForTask(reset)).toMatchObject({ Status: 'SUCCESS' });
      const update = await api.submit('/api/ansibleplaybook', { playbook_dir: 'repo', playbook: 'site.yml', inventory: 'dev', update_git_repo: true });
      expect(await api.waitForTask(update)).toMatchObject({ Status: 'SUCCESS' });
      expect(fixture.enclosingRepositoryUntouched()).toBe(true);
    });

    it('lets a user use a vault file their rbac entry lists', async () => {
      const api = deployment.api.as(VAULTUSER);
      const id = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev', vault_file: 'team/dev.pass' });
      expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      // Admins may use any.
      const admin = await deployment.api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', vault_file: 'pass.txt' });
      expect(await deployment.api.waitForTask(admin)).toMatchObject({ Status: 'SUCCESS' });
    });

    it('leaves Jinja in extra vars and module args as text (runs, templates nothing)', async () => {
      const canary = deployment.fixture.canary('jinja');
      const lookup = `{{ lookup('pipe', 'touch ${canary}') }}`;
      const api = deployment.api;
      const viaVars = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'echo-vars.yml', extra_vars: { payload: lookup } });
      const viaArgs = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'debug', module_args: { msg: lookup } });
      for (const id of [viaVars, viaArgs]) {
        expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
        expect(await api.output(id)).toContain("lookup('pipe', 'touch");
      }
      expect(deployment.fixture.canaryExists()).toBe(false);
    });

    it("answers 404 for other users' jobs exactly as for an unknown id", async () => {
      const adminJob = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
      const devJob = await deployment.api.as(DEVADMIN).submit('/api/ansiblecommand', { host_pattern: 'all', module: 'ping', inventory: 'dev' });
      await deployment.api.waitForTask(adminJob);
      await deployment.api.waitForTask(devJob);
      const unknown = await deployment.api.as(PRODUSER).get('/api/ansibletaskstatus/00000000-0000-4000-8000-000000000000');
      for (const [who, id] of [[PRODUSER, adminJob], [PRODUSER, devJob], [DEVADMIN, adminJob]] as const) {
        for (const path of ['/api/ansibletaskstatus/', '/api/ansibletaskoutput/']) {
          const res = await deployment.api.as(who).get(path + id);
          expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: unknown.body });
        }
      }
      // A user whose inventory the job ran on may read it; its submitter may too.
      expect((await deployment.api.as(NARROW).get(`/api/ansibletaskstatus/${devJob}`)).status).toBe(200);
      expect((await deployment.api.as(DEVADMIN).get(`/api/ansibletaskoutput/${devJob}`)).status).toBe(200);
    });

    it('lets admins keep regex host patterns', async () => {
      const { id } = await deployment.api.sdk.submitCommand({ host_pattern: '~^local.*', module: 'ping', limit: '~.*host' });
      expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      expect(await deployment.api.output(id)).toContain('localhost | SUCCESS');
    });

    it("lets other users of a shared inventory read a job, but neither cancel it nor see its module_args values", async () => {
      const marker = `${1000 + Math.floor(Math.random() * 8000)}.375`;
      const devadmin = deployment.api.as(DEVADMIN);
      const slow = await devadmin.post<{ id: string }>('/api/v1/jobs/command', {
        host_pattern: 'all', inventory: 'dev', module: 'command', module_args: `sleep ${marker} chdir=/tmp`,
      });
      const quick = await devadmin.post<{ id: string }>('/api/v1/jobs/command', {
        host_pattern: 'all', inventory: 'dev', module: 'debug', module_args: { msg: 'the-s3cret' },
      });
      expect([slow.status, quick.status]).toEqual([202, 202]);
      const narrow = deployment.api.as(NARROW);

      // Another reader: names, not values, in the job and in the history.
      const seen = await narrow.get<{ request: { module: string; module_args: unknown } }>(`/api/v1/jobs/${slow.body.id}`);
      expect(seen.status).toBe(200);
      expect(seen.body.request).toMatchObject({ module: 'command', module_args: '<hidden> chdir=<hidden>' });
      expect((await narrow.get<{ request: unknown }>(`/api/v1/jobs/${quick.body.id}`)).body.request).toMatchObject({
        module: 'debug', module_args: { msg: '<hidden>' },
      });
      const history = await narrow.get(`/api/v1/jobs?user=devadmin&limit=50`);
      expect(history.status).toBe(200);
      expect(history.text).toContain(quick.body.id);
      expect(history.text).not.toMatch(/the-s3cret|sleep \d/);
      // The submitter and admins see them as submitted.
      for (const who of [devadmin, deployment.api]) {
        expect((await who.get<{ request: unknown }>(`/api/v1/jobs/${quick.body.id}`)).body.request).toMatchObject({ module_args: { msg: 'the-s3cret' } });
      }

      // Another reader may not cancel (403); a user who cannot read the job gets 404, as for an unknown id.
      const refused = await narrow.post(`/api/v1/jobs/${slow.body.id}/cancel`, {});
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 403,
        body: { statusCode: 403, error: 'Forbidden', message: expect.stringMatching(/submitted this job or an admin/) },
      });
      const unknown = await deployment.api.as(PRODUSER).post('/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel', {});
      const hidden = await deployment.api.as(PRODUSER).post(`/api/v1/jobs/${slow.body.id}/cancel`, {});
      expect({ status: hidden.status, body: hidden.body }).toEqual({ status: 404, body: unknown.body });
      expect((await devadmin.get<{ status: string; cancel_requested_at: unknown }>(`/api/v1/jobs/${slow.body.id}`)).body).toMatchObject({
        status: expect.stringMatching(/queued|running/),
        cancel_requested_at: null,
      });

      // Its submitter may.
      const canceled = await devadmin.post<{ status: string }>(`/api/v1/jobs/${slow.body.id}/cancel`, {});
      expect(canceled.status).toBe(202);
      expect(await devadmin.waitForTask(slow.body.id, 30_000)).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE', description: 'Canceled by devadmin' });
      await devadmin.waitForTask(quick.body.id);
    });

    it("keeps the service's secrets out of Ansible's environment and output", async () => {
      const api = deployment.api;
      const id = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'command', module_args: 'env' });
      expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      const output = await api.output(id);
      expect(output).toContain('PATH=');
      // FLANSIBLE_EVENTS_FD is the callback plugin's own pipe, not a service setting.
      expect(output).not.toMatch(/FLANSIBLE_(?!EVENTS_FD=)|postgres(ql)?:\/\/|amqp:\/\/|rbac\.json/);
    });

    it('never left a canary behind', () => {
      expect(deployment.fixture.canaryExists()).toBe(false);
      expect(deployment.fixture.enclosingRepositoryUntouched()).toBe(true);
    });
  });
}
