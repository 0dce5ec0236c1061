import { execFileSync } from 'node:child_process';
import { eventually } from './support/api-client';
import { Deployment, DeploymentKind } from './support/deployment';
import { describeJobLifecycle } from './scenarios/job-lifecycle.scenarios';

jest.setTimeout(120_000);

describeJobLifecycle('embedded');
// The distributed run of these scenarios is test/lifecycle-distributed.e2e-spec.ts: a file of its
// own, so that the two halves can run on two Jest workers at once.

/**
 * kill -9 of whatever runs the jobs (a runner process, or the embedded gateway): its running job
 * must end as error, never stay running and never run twice; a job still queued runs elsewhere.
 */
describe.each<[DeploymentKind]>([['distributed'], ['embedded']])('a runner killed with -9 (%s)', (kind) => {
  const deployment = new Deployment(kind, {
    runners: 1,
    runnerConcurrency: 1,
    env: { FLANSIBLE_HEARTBEAT_INTERVAL: '1', FLANSIBLE_RUNNER_LOST_AFTER: '3' },
  });
  const marker = `${Math.floor(100 + Math.random() * 800)}.125`;

  beforeAll(() => deployment.boot());
  afterAll(async () => {
    // The supervisor stopped the killed runner's ansible (test/runner-death.e2e-spec.ts proves it);
    // this only tidies up if it ever did not. pkill exits 1 when nothing matches.
    try {
      execFileSync('pkill', ['-f', `sleep ${marker}`], { stdio: 'ignore' });
    } catch {
      // nothing left
    }
    await deployment.stop();
  }, 60_000);

  it('ends its running job as error, runs the queued one elsewhere, and never runs a job twice', async () => {
    const api = deployment.api;
    const running = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: marker } });
    await eventually(async () => (await api.output(running)).includes('slow-started-marker'), 'the slow job to start');
    const queued = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });

    if (kind === 'distributed') {
      await deployment.runners[0].kill();
      await deployment.startRunner();
    } else {
      await deployment.gateway.kill();
      await deployment.startGateway();
    }

    const lost = await api.waitForTask(running, 60_000);
    expect(lost).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE', returncode: null });
    expect(lost.description).toMatch(/lost|stopped/i);
    expect((await api.get<{ status: string }>(`/api/v1/jobs/${running}`)).body.status).toBe('error');
    expect(await api.waitForTask(queued, 60_000)).toMatchObject({ Status: 'SUCCESS' });
    // The redelivered message of the lost job did not start Ansible again.
    expect((await api.output(running)).match(/slow-started-marker/g)).toHaveLength(1);
  });
});
