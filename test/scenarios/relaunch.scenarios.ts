import { FlansibleClient, JobResource, JobSummary } from '@flansible/sdk';
import { Credentials } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { LIMITED_USERS } from '../support/fixture';

const RELAUNCHER: Credentials = { user: LIMITED_USERS.relauncher.user, password: LIMITED_USERS.relauncher.password };
const PRODUSER: Credentials = { user: LIMITED_USERS.produser.user, password: LIMITED_USERS.produser.password };
const WAIT = { timeoutMs: 60_000, intervalMs: 100 };

/** Each host of a summary with what Ansible's recap counted against it. */
const outcomes = (summary: JobSummary) =>
  Object.fromEntries(summary.hosts.map((h) => [h.host, h.unreachable ? 'unreachable' : h.failed ? 'failed' : 'ok']));

/**
 * Relaunch against real hosts (relaunch.yml: okbox succeeds, badbox and `ok*` fail, deadbox is
 * unreachable), as a non-admin under the guard, the same in both deployments: the new job runs
 * the stored request (its extra vars included) on exactly the hosts asked for.
 */
export function describeRelaunch(kind: DeploymentKind): void {
  describe(`relaunch (${kind})`, () => {
    const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 2 });
    let sdk: FlansibleClient;
    let original: JobResource;

    beforeAll(async () => {
      await deployment.boot();
      sdk = deployment.api.as(RELAUNCHER).sdk;
      original = await sdk.submitPlaybook({ playbook_dir: 'app', playbook: 'flaky.yml', inventory: 'relaunch.yml', extra_vars: { greeting: 'from-the-first-run' } });
      expect(await sdk.waitForJob(original.id, WAIT)).toMatchObject({ status: 'failed', relaunch_of: null });
    });
    afterAll(() => deployment.stop());

    /** Relaunches the original on `hosts`, waits for the new job and answers it with its recap. */
    async function relaunched(hosts: 'all' | 'failed' | 'unreachable' | 'failed_and_unreachable', of = original.id) {
      const job = await sdk.relaunchJob(of, hosts);
      // A runner may have claimed it before the answer was read.
      expect(job).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), relaunch_of: of, submitted_by: RELAUNCHER.user });
      const ended = await sdk.waitForJob(job.id, WAIT);
      return { job: ended, hosts: outcomes(await sdk.getJobSummary(job.id)), output: await sdk.getJobOutputText(job.id) };
    }

    it('ran the first job on every host of the inventory', async () => {
      expect(outcomes(await sdk.getJobSummary(original.id))).toEqual({ okbox: 'ok', 'ok*': 'failed', badbox: 'failed', deadbox: 'unreachable' });
    });

    it('relaunches the failed hosts by name: ok* reaches itself, not okbox', async () => {
      const { job, hosts, output } = await relaunched('failed');
      expect(job).toMatchObject({ status: 'failed', request: { limit_hosts: ['badbox', 'ok*'], extra_var_names: ['greeting'] } });
      expect(hosts).toEqual({ 'ok*': 'failed', badbox: 'failed' });
      // The extra vars came from the stored job, not from this request.
      expect(output).toContain('greeting=from-the-first-run');
    });

    it('relaunches the unreachable host, and then has nothing failed to relaunch from it', async () => {
      const { job, hosts } = await relaunched('unreachable');
      expect(job).toMatchObject({ status: 'failed', return_code: 4, request: { limit_hosts: ['deadbox'] } });
      expect(hosts).toEqual({ deadbox: 'unreachable' });
      await expect(sdk.relaunchJob(job.id, 'failed')).rejects.toMatchObject({ status: 409, body: { message: `No host of job ${job.id} matches hosts=failed` } });
    });

    it('relaunches failed and unreachable hosts together, and all of them', async () => {
      expect((await relaunched('failed_and_unreachable')).hosts).toEqual({ 'ok*': 'failed', badbox: 'failed', deadbox: 'unreachable' });
      expect((await relaunched('all')).hosts).toEqual({ okbox: 'ok', 'ok*': 'failed', badbox: 'failed', deadbox: 'unreachable' });
    });

    it("keeps the first job's limit: a relaunch reaches no host the first could not", async () => {
      const limited = await sdk.submitPlaybook({ playbook_dir: 'app', playbook: 'flaky.yml', inventory: 'relaunch.yml', limit: 'all:!badbox' });
      await sdk.waitForJob(limited.id, WAIT);
      const { job, hosts } = await relaunched('all', limited.id);
      expect(job.request).toMatchObject({ limit: 'all:!badbox', limit_hosts: ['deadbox', 'ok*', 'okbox'] });
      expect(hosts).toEqual({ okbox: 'ok', 'ok*': 'failed', deadbox: 'unreachable' });
    });

    it('refuses a user who may not read the job (404), running nothing', async () => {
      const before = (await deployment.api.sdk.listJobs({ limit: 500 })).items.length;
      await expect(deployment.api.as(PRODUSER).sdk.relaunchJob(original.id, 'all')).rejects.toMatchObject({ status: 404 });
      expect((await deployment.api.sdk.listJobs({ limit: 500 })).items.length).toBe(before);
    });
  });
}
