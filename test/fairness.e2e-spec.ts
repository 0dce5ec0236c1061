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
    const ping = await deployment.api.sdk.submitCommand({ host_pattern: 'localhost', module: 'ping' });
    const done = await deployment.api.sdk.waitForJob(ping.id, { timeoutMs: 120_000, intervalMs: 100 });
    expect(done.status).toBe('successful');
    // Within one long job's duration, counted in jobs rather than seconds (a loaded machine stretches
    // seconds): the ping took the first slot that freed, so only the first wave of the hog's jobs
    // (the two running, and at most one per slot already handed out) started before it.
    const hogJobs = await Promise.all(backlog.map((id) => hog.getJob(id)));
    const startedFirst = hogJobs.filter((j) => j.started_at !== null && Date.parse(j.started_at) <= Date.parse(done.started_at!));
    expect(startedFirst.length).toBeLessThanOrEqual(4);
    // The hog's jobs were not all run first: most are still waiting.
    const queued = hogJobs.filter((j) => j.status === 'queued');
    expect(queued.length).toBeGreaterThan(50);
  });
});
