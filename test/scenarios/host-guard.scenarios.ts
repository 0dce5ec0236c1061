import { join } from 'node:path';
import { Credentials } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { LIMITED_USERS } from '../support/fixture';

const WEBDEV: Credentials = { user: LIMITED_USERS.webdev.user, password: LIMITED_USERS.webdev.password };
const ADMIN: Credentials = { user: 'admin', password: 'admin' };
const DEVADMIN: Credentials = { user: 'devadmin', password: 'devpassword' };

/** A job that reaches a host its inventory does not declare, and the reason it must end with. */
export interface GuardCase {
  kind: string;
  name: string;
  path: string;
  body: (touchPath: string) => Record<string, unknown>;
  refused: RegExp;
}

const adhoc = (pattern: string, extra: Record<string, unknown> = {}): GuardCase => ({
  kind: 'ad-hoc host pattern',
  name: `host_pattern ${pattern}`,
  path: '/api/ansiblecommand',
  body: (touchPath) => ({ host_pattern: pattern, inventory: 'webdev', module: 'file', module_args: { path: touchPath, state: 'touch' }, ...extra }),
  refused: /host (localhost|127\.0\.0\.1|::1) is not declared/,
});

const book = (kind: string, playbook: string, vars: Record<string, unknown>, refused: RegExp): GuardCase => ({
  kind,
  name: `${playbook} ${JSON.stringify(vars)}`,
  path: '/api/ansibleplaybook',
  body: (touchPath) => ({ playbook_dir: 'app', playbook, inventory: 'webdev', extra_vars: { ...vars, touch_path: touchPath } }),
  refused,
});

export const GUARD_CASES: GuardCase[] = [
  ...['::1', 'localhost[0]', '127.0.0.1[0]', '::1[0]', 'localhost[0:]', 'devbox,::1', 'box:127.0.0.1[0]'].map((p) => adhoc(p)),
  { ...adhoc('::1[0]', { limit: '::1' }), kind: 'limit', name: 'limit ::1', path: '/api/v1/jobs/command' },
  { ...adhoc('devbox:localhost[0]', { limit: 'all:localhost[0]' }), kind: 'limit', name: 'limit all:localhost[0]', path: '/api/v1/jobs/command' },
  book('playbook hosts from extra vars', 'hosts-from-var.yml', { target: 'localhost' }, /host localhost is not declared/),
  book('playbook hosts from extra vars', 'hosts-from-var.yml', { target: '::1' }, /host ::1 is not declared/),
  book('playbook hosts from extra vars', 'hosts-from-var.yml', { target: 'all,localhost[0]' }, /host localhost is not declared/),
  book('delegate_to from extra vars', 'delegate-from-var.yml', { via: 'localhost' }, /delegation target localhost is not declared/),
  book('delegate_to from extra vars', 'delegate-from-var.yml', { via: '127.0.0.1' }, /delegation target 127\.0\.0\.1 is not declared/),
  book('add_host', 'add-host.yml', { newhost: 'localhost' }, /host localhost is not declared/),
];

/**
 * A non-admin's job acts only on hosts its inventory declares (the guard inside Ansible), in
 * every spelling and every playbook idiom; the same requests with declared hosts run as before.
 * `sample` picks the cases run against this deployment.
 */
export function describeHostGuard(kind: DeploymentKind, sample: (cases: GuardCase[]) => GuardCase[] = (c) => c): void {
  describe(`hosts a non-admin's job may reach (${kind})`, () => {
    const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 2 });
    const canary = (name: string) => deployment.fixture.canary(name.replace(/[^A-Za-z0-9]+/g, '_'));

    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    it.each(sample(GUARD_CASES).map((c) => [`[${c.kind}] ${c.name}`, c] as const))('%s ends error before anything runs', async (_title, c) => {
      const api = deployment.api.as(WEBDEV);
      const id = await api.submit(c.path, c.body(canary(c.name)));
      expect(await api.waitForTask(id)).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE' });
      const job = await api.get<{ status: string; reason: string }>(`/api/v1/jobs/${id}`);
      expect(job.body).toMatchObject({ status: 'error', reason: expect.stringMatching(c.refused) });
      expect(deployment.fixture.canaryExists()).toBe(false);
    });

    it('runs the same requests with declared hosts as before', async () => {
      const api = deployment.api.as(WEBDEV);
      const allowed = join(deployment.fixture.root, 'allowed');
      const runs: [string, Record<string, unknown>][] = [
        ['/api/ansiblecommand', { host_pattern: 'devbox', inventory: 'webdev', module: 'file', module_args: { path: `${allowed}-adhoc`, state: 'touch' } }],
        ['/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'hosts-from-var.yml', inventory: 'webdev', extra_vars: { target: 'box', touch_path: `${allowed}-hosts` } }],
        ['/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'delegate-from-var.yml', inventory: 'webdev', extra_vars: { via: 'devbox', touch_path: `${allowed}-delegated` } }],
      ];
      for (const [path, body] of runs) {
        const id = await api.submit(path, body);
        expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      }
      // Declared remote hosts are tried (and are unreachable here): failed, not refused.
      const remote = await api.submit('/api/ansiblecommand', { host_pattern: 'web', inventory: 'webdev', module: 'ping' });
      expect(await api.waitForTask(remote)).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE', returncode: 4 });
      expect((await api.get(`/api/v1/jobs/${remote}`)).body).toMatchObject({ status: 'failed' });
    });

    it('lets a non-admin whose inventory lists localhost target it by name', async () => {
      // dev lists localhost (connection local); Ansible resolves 127.0.0.1 to that host too.
      const api = deployment.api.as(DEVADMIN);
      for (const host_pattern of ['localhost', '127.0.0.1']) {
        const id = await api.submit('/api/ansiblecommand', { host_pattern, inventory: 'dev', module: 'ping' });
        expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
        expect(await api.sdk.getJobSummary(id)).toMatchObject({ hosts: [expect.objectContaining({ host: 'localhost', ok: 1 })] });
      }
    });

    it("leaves an admin's jobs unrestricted", async () => {
      const admin = deployment.api.as(ADMIN);
      const id = await admin.submit('/api/ansiblecommand', { host_pattern: 'localhost[0]', inventory: 'webdev', module: 'ping' });
      expect(await admin.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    });

    it('warned at start about each non-admin user whose inventories hold a host that runs on the Flansible host', async () => {
      const warned = (user: string) => new RegExp(`User ${user} may use inventories with hosts that run on the Flansible host itself: [^\\n]*`, 'g');
      const gateway = deployment.gateway!;
      await gateway.waitForLog(warned('webdev'));
      expect(gateway.logs.match(warned('webdev'))).toEqual([expect.stringContaining('webdev (devbox)')]);
      expect(gateway.logs.match(warned('devadmin'))).toEqual([expect.stringMatching(/\/dev \(localhost\)/)]);
      expect(gateway.logs).not.toMatch(/User admin may use/);
    });

    it('never left a canary behind', () => {
      expect(deployment.fixture.canaryExists()).toBe(false);
    });
  });
}
