import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';

const SEED_FIND_EXAMPLE = {
  host_pattern: 'localhost',
  module: 'find',
  module_args: { paths: '/tmp', age: '2d', recurse: true },
};

/**
 * The job pipeline scenarios, run unchanged against the embedded and the distributed deployment:
 * real processes, real Ansible against localhost, and in the distributed case real RabbitMQ
 * and PostgreSQL.
 */
export function describeJobPipeline(kind: DeploymentKind): void {
  describe(`job pipeline (${kind})`, () => {
    let deployment: Deployment;

    beforeAll(async () => {
      deployment = await Deployment.start(kind, { runners: 1, runnerConcurrency: 2 });
    });

    afterAll(async () => {
      await deployment?.stop();
    });

    const api = () => deployment.api;
    const fixture = () => deployment.fixture;

    describe('ad-hoc commands', () => {
      it('runs ping and reports SUCCESS with its output', async () => {
        const id = await api().submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
        expect(await api().waitForTask(id)).toEqual({ Status: 'SUCCESS', description: '', returncode: 0 });
        expect(await api().output(id)).toMatch(/localhost \| SUCCESS[\s\S]*"ping": "pong"/);
      });

      it("runs the seed's find example as written", async () => {
        const id = await api().submit('/api/ansiblecommand', SEED_FIND_EXAMPLE);
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
        expect(await api().output(id)).toContain('"matched"');
      });

      it('accepts the host_filter alias and honours verbose_level', async () => {
        const id = await api().submit('/api/ansiblecommand', { host_filter: 'localhost', module: 'ping', verbose_level: 1, forks: 2 });
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
        expect(await api().output(id)).toMatch(/config file/);
      });
    });

    describe('playbooks', () => {
      it('runs a playbook that succeeds, with extra vars', async () => {
        const id = await api().submit('/api/ansibleplaybook', {
          playbook_dir: join(fixture().playbookRoot, 'app'),
          playbook: 'ok.yml',
          extra_vars: { greeting: 'hello-e2e' },
        });
        expect(await api().waitForTask(id)).toEqual({ Status: 'SUCCESS', description: '', returncode: 0 });
        const output = await api().output(id);
        expect(output).toContain('TASK [ok-task-marker]');
        expect(output).toContain('greeting=hello-e2e');
      });

      it('accepts playbook_dir relative to the playbook root', async () => {
        const id = await api().submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml' });
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      });

      it('runs a playbook with the tag web:nginx, which the runner takes as the gateway does', async () => {
        const res = await api().post<{ id: string }>('/api/v1/jobs/playbook', { playbook_dir: 'app', playbook: 'tagged.yml', tags: ['web:nginx'] });
        expect(res.status).toBe(202);
        expect(await api().sdk.waitForJob(res.body.id, { timeoutMs: 60_000, intervalMs: 100 })).toMatchObject({ status: 'successful', reason: null });
        // The tag reached Ansible: no task of tagged.yml carries it, so none ran.
        const output = await api().output(res.body.id);
        expect(output).toContain('PLAY RECAP');
        expect(output).not.toMatch(/tagged-(alpha|beta)/);
      });

      it('reports FLANSIBLE_TASK_FAILURE with the return code of a failing playbook', async () => {
        const id = await api().submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'fail.yml' });
        const status = await api().waitForTask(id);
        expect(status.Status).toBe('FLANSIBLE_TASK_FAILURE');
        expect(status.returncode).toBe(2);
        expect(status.description).toMatch(/code 2/);
        expect(await api().output(id)).toContain('this playbook fails on purpose');
      });

      it('lets output be read while the job is still running', async () => {
        const id = await api().submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 5 } });
        const partial = await eventually(async () => {
          const output = await api().output(id);
          return output.includes('slow-started-marker') ? output : null;
        }, 'the first task output');
        expect((await api().status(id)).Status).toBe('PROGRESS');
        expect(partial).not.toContain('slow-finished-marker');
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
        expect(await api().output(id)).toContain('slow-finished-marker');
      });

      it('answers 404 with the reason for a missing directory, playbook or inventory', async () => {
        const missingDir = await api().post('/api/ansibleplaybook', { playbook_dir: 'nope', playbook: 'ok.yml' });
        expect(missingDir.status).toBe(404);
        expect(missingDir.body).toMatchObject({ statusCode: 404, message: 'Directory not found: nope' });

        const missingBook = await api().post('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'missing.yml' });
        expect(missingBook.status).toBe(404);
        expect(missingBook.body).toMatchObject({ message: 'Playbook not found in folder. Path does not exist: app/missing.yml' });

        const missingInventory = await api().post('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'nowhere' });
        expect(missingInventory.status).toBe(404);
        expect(missingInventory.body).toMatchObject({ message: 'Inventory path not found: nowhere' });
      });

      it('refuses playbooks outside the playbook root, by path, by .. and by symlink', async () => {
        for (const body of [
          { playbook_dir: fixture().outside, playbook: 'evil.yml' },
          { playbook_dir: 'app', playbook: '../../outside/evil.yml' },
          { playbook_dir: '/etc', playbook: 'passwd' },
        ]) {
          const res = await api().post('/api/ansibleplaybook', body);
          expect(res.status).toBe(403);
        }
      });

      it('lists playbooks in the shape the playbook endpoint takes, without vars or roles', async () => {
        const res = await api().get<{ playbook: string; playbook_dir: string }[]>('/api/listplaybooks');
        expect(res.status).toBe(200);
        const app = join(fixture().playbookRoot, 'app');
        expect(res.body).toEqual(
          expect.arrayContaining([
            { playbook: 'ok.yml', playbook_dir: app },
            { playbook: 'site.yaml', playbook_dir: join(fixture().playbookRoot, 'other') },
            { playbook: 'site.yml', playbook_dir: fixture().repoDir },
          ]),
        );
        expect(res.body.some((p) => /group_vars|roles/.test(p.playbook_dir))).toBe(false);
      });
    });

    describe('status and output', () => {
      it('answers 404 for an unknown task id', async () => {
        for (const path of ['/api/ansibletaskstatus/', '/api/ansibletaskoutput/']) {
          const res = await api().get(path + '00000000-0000-4000-8000-000000000000');
          expect(res.status).toBe(404);
          expect(res.body).toMatchObject({ statusCode: 404, message: 'Task not found' });
        }
      });

      it('reports a queued job as PROGRESS, not 404', async () => {
        // Two slow jobs fill the runner's two slots, so the third waits in the queue.
        const slow = { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } };
        const busy = [await api().submit('/api/ansibleplaybook', slow), await api().submit('/api/ansibleplaybook', slow)];
        const queued = await api().submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
        expect(await api().status(queued)).toEqual({ Status: 'PROGRESS', description: expect.any(String), returncode: null });
        for (const id of [...busy, queued]) expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      });
    });

    describe('git', () => {
      it('pulls a playbook repository, with and without reset', async () => {
        fixture().pushToRemote('pulled.yml', '- hosts: all\n  gather_facts: false\n  tasks: []\n');
        const id = await api().submit('/api/git', { playbook_dir: fixture().repoDir });
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
        expect(existsSync(join(fixture().repoDir, 'pulled.yml'))).toBe(true);

        const reset = await api().submit('/api/git', { playbook_dir: 'repo', remote_name: 'origin', branch_name: 'master', reset: true });
        expect(await api().waitForTask(reset)).toMatchObject({ Status: 'SUCCESS' });
      });

      it('updates the repository before a playbook run with update_git_repo', async () => {
        fixture().pushToRemote('fresh.yml', '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: fresh-marker\n      ansible.builtin.debug: msg=fresh\n');
        const res = await api().post('/api/ansibleplaybook', { playbook_dir: 'repo', playbook: 'site.yml', update_git_repo: true });
        expect(res.status).toBe(200);
        const id = (res.body as { task_id: string }).task_id;
        expect(await api().waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
        expect(existsSync(join(fixture().repoDir, 'fresh.yml'))).toBe(true);
      });
    });

    describe('authentication and inventory access', () => {
      it('answers 401 with a Basic challenge for missing or wrong credentials', async () => {
        for (const client of [api().as(null), api().as({ user: 'admin', password: 'wrong' }), api().as({ user: 'nobody', password: 'admin' })]) {
          const res = await client.post('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
          expect(res.body).toMatchObject({ statusCode: 401 });
        }
      });

      it('lets a user run on an inventory listed for them', async () => {
        const devadmin = api().as({ user: 'devadmin', password: 'devpassword' });
        const id = await devadmin.submit('/api/ansiblecommand', { host_pattern: 'all', module: 'ping', inventory: 'dev' });
        expect(await devadmin.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      });

      it('answers 403 for an inventory not listed, whether named, given as a path or defaulted', async () => {
        const devadmin = api().as({ user: 'devadmin', password: 'devpassword' });
        const inventoryRoot = fixture().inventoryRoot;
        const cases: [string | undefined, string][] = [
          ['prod', 'prod'],
          [join(inventoryRoot, 'prod'), join(inventoryRoot, 'prod')],
          ['dev/../prod', 'dev/../prod'],
          [undefined, 'localhost'],
        ];
        for (const [inventory, named] of cases) {
          for (const [path, body] of [
            ['/api/ansiblecommand', { host_pattern: 'all', module: 'ping', inventory }],
            ['/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', inventory }],
          ] as const) {
            const res = await devadmin.post(path, body);
            expect(res.status).toBe(403);
            expect(res.body).toMatchObject({ message: `User does not have access to inventory ${named}` });
          }
        }
      });

      it('refuses an inventory outside the inventory root, even for admin', async () => {
        const res = await api().post('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping', inventory: join(fixture().outside, 'inventory') });
        expect(res.status).toBe(403);
      });
    });

    describe('bad input', () => {
      it('answers 400 naming the problem, for missing, mistyped and unknown fields', async () => {
        const cases: [unknown, RegExp][] = [
          [{ module: 'ping' }, /host_pattern/],
          [{ host_pattern: 'localhost' }, /module/],
          [{ host_pattern: 'localhost', module: 'ping', become: 'false' }, /become must be a boolean/],
          [{ host_pattern: 'localhost', module: 'ping', forks: '5' }, /forks must be an integer/],
          [{ host_pattern: 'localhost', module: 'ping', verbose_level: 9 }, /verbose_level/],
          [{ host_pattern: 'localhost', module: 'ping', extra_vars: 'a=b' }, /extra_vars must be an object/],
          [{ host_pattern: 'localhost', module: 'ping', surprise: 1 }, /property surprise should not exist/],
        ];
        for (const [body, message] of cases) {
          const res = await api().post<{ message: string }>('/api/ansiblecommand', body);
          expect(res.status).toBe(400);
          expect(res.body.message).toMatch(message);
        }
      });

      it('answers 400 for malformed JSON and a non-object body', async () => {
        const malformed = await api().request('POST', '/api/ansiblecommand', { rawBody: '{"host_pattern": ' });
        expect(malformed.status).toBe(400);
        expect(malformed.body).toMatchObject({ statusCode: 400 });
        const array = await api().request('POST', '/api/ansiblecommand', { rawBody: '[1,2]' });
        expect(array.status).toBe(400);
      });

      it('never runs shell metacharacters in any string field (canary stays absent)', async () => {
        const canary = fixture().canary('pwned');
        const payloads = [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `| touch ${canary}`, `&& touch ${canary} #`, `localhost\ntouch ${canary}`];
        const ids: string[] = [];
        const attempt = async (path: string, body: Record<string, unknown>) => {
          const res = await api().post<{ task_id?: string }>(path, body);
          expect([200, 400, 403, 404]).toContain(res.status);
          if (res.status === 200 && res.body.task_id) ids.push(res.body.task_id);
        };
        for (const p of payloads) {
          await attempt('/api/ansiblecommand', { host_pattern: p, module: 'ping' });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: p });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: 'debug', module_args: { msg: p } });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping', inventory: p });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping', become_method: p });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping', become_user: p });
          await attempt('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping', extra_vars: { x: p } });
          await attempt('/api/ansibleplaybook', { playbook_dir: p, playbook: 'ok.yml' });
          await attempt('/api/ansibleplaybook', { playbook_dir: 'app', playbook: p });
          await attempt('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'echo-vars.yml', extra_vars: { payload: p } });
          await attempt('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', vault_file: p });
          await attempt('/api/git', { playbook_dir: p });
          await attempt('/api/git', { playbook_dir: 'repo', remote_name: p });
          await attempt('/api/git', { playbook_dir: 'repo', branch_name: p });
        }
        for (const id of ids) await api().waitForTask(id);
        expect(fixture().canaryExists()).toBe(false);
      });
    });

    describe('OpenAPI', () => {
      it('serves the spec at /api/spec and /api/spec.json and a page at /api/spec.html', async () => {
        for (const path of ['/api/spec', '/api/spec.json']) {
          const res = await api().as(null).get<{ paths: Record<string, unknown> }>(path);
          expect(res.status).toBe(200);
          expect(Object.keys(res.body.paths)).toEqual(
            expect.arrayContaining(['/api/ansiblecommand', '/api/ansibleplaybook', '/api/ansibletaskstatus/{task_id}', '/api/ansibletaskoutput/{task_id}', '/api/git', '/api/listplaybooks']),
          );
        }
        const page = await api().as(null).get('/api/spec.html');
        expect(page.status).toBe(200);
        expect(page.text).toMatch(/swagger/i);
      });
    });
  });
}
