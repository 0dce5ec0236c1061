import { Deployment, DeploymentKind } from './support/deployment';

jest.setTimeout(180_000);

const HOG = { user: 'devadmin', password: 'devpassword' };
const LONG_SECONDS = 6;

/**
 * One user's backlog must not starve another user: a free runner slot goes to the user with the
 * fewest running jobs, so a ping waits at most until the next slot frees.
 */
describe.each<[DeploymentKind]>([['embedded'], ['distributed']])('fair scheduling across users (%s)', (kind) => {
  const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 2 });
  const backlog: string[] = [];

  beforeAll(() => deployment.boot());
  afterAll(async () => {
    const hog = deployment.api.as(HOG).sdk;
    await Promise.all(backlog.map((id) => hog.cancelJob(id).catch(() => undefined)));
    await deployment.stop();
  });

  it("runs another user's ping within one long job's duration while 60 long jobs are queued", async () => {
    const hog = deployment.api.as(HOG).sdk;
    for (let i = 0; i < 60; i++) {
      const job = await hog.submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', inventory: 'dev', extra_vars: { slow_seconds: LONG_SECONDS } });
      backlog.push(job.id);
    }
    const submitted = Date.now();
    const ping = await deployment.api.sdk.submitCommand({ host_pattern: 'localhost', module: 'ping' });
    const done = await deployment.api.sdk.waitForJob(ping.id, { timeoutMs: 120_000, intervalMs: 100 });
    const waited = (Date.now() - submitted) / 1000;
    expect(done.status).toBe('successful');
    expect(waited).toBeLessThan(LONG_SECONDS + 8);
    // The hog's jobs were not all run first: most are still waiting.
    const queued = (await Promise.all(backlog.map((id) => hog.getJob(id)))).filter((j) => j.status === 'queued');
    expect(queued.length).toBeGreaterThan(50);
  });
});
