import { execFileSync } from 'node:child_process';
import { eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { FlansibleProcess } from './support/flansible-process';
import { readJobStream, StreamMessage } from './support/sse-client';

jest.setTimeout(120_000);

const ADMIN = { user: 'admin', password: 'admin' };
/** A sleep no other suite runs, so that afterAll can tidy up should a test fail half-way. */
const marker = () => `${Math.floor(100 + Math.random() * 800)}.875`;

interface JobResource {
  status: string;
  reason: string | null;
  runner: string | null;
}

async function readiness(baseUrl: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}${path}`);
  return { status: res.status, body: await res.json() };
}

/** Reads a running job's stream until the server ends it (`read`); resolves once its first message is in. */
async function openStream(baseUrl: string, jobId: string) {
  let first!: () => void;
  const started = new Promise<void>((resolve) => (first = resolve));
  const read = readJobStream(baseUrl, jobId, ADMIN, { onMessage: () => first() });
  await Promise.race([started, read]);
  return { read };
}

describe('drain, not kill (distributed)', () => {
  // Long enough that only the drain's own rules can end it within a test.
  const deployment = new Deployment('distributed', { runners: 1, runnerConcurrency: 2, env: { FLANSIBLE_SHUTDOWN_GRACE: '600' } });
  const sleeps: string[] = [];
  const slow = (seconds: number | string) => ({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: seconds } });
  const job = async (id: string) => (await deployment.api.get<JobResource>(`/api/v1/jobs/${id}`)).body;
  const runnerOf = async (id: string): Promise<FlansibleProcess> => {
    const runnerId = (await eventually(async () => (await job(id)).runner, `job ${id} to be claimed`)) as string;
    return deployment.runners.find((runner) => runnerId.includes(`:${runner.pid}:`)) as FlansibleProcess;
  };
  const started = (id: string) => eventually(async () => (await deployment.api.output(id)).includes('slow-started-marker'), `job ${id} to start`);

  beforeAll(() => deployment.boot());
  afterAll(async () => {
    for (const sleep of sleeps) {
      try {
        execFileSync('pkill', ['-f', `sleep ${sleep}`], { stdio: 'ignore' });
      } catch {
        // nothing left, as it should be
      }
    }
    await deployment.stop();
  }, 60_000);

  it('ends a gateway\'s live streams on SIGTERM with a retry hint; the client resumes on another gateway and loses nothing', async () => {
    const id = await deployment.api.submit('/api/ansibleplaybook', slow(3));
    await started(id);
    const stream = await openStream(deployment.api.baseUrl, id);
    deployment.gateway.signal('SIGTERM');
    const cut = await stream.read;
    await deployment.gateway.waitForExit();

    expect(cut.messages.some((m) => m.event === 'end')).toBe(false);
    // The stream's opening hint, then the one the stopping gateway sent before it ended the stream.
    expect(cut.retries).toHaveLength(2);
    expect(cut.retries[1]).toBeGreaterThanOrEqual(1_000);

    await deployment.startGateway();
    // As EventSource keeps it: the id of the last message that carried one (the stream's final
    // `closed` message, saying why it ended, carries none).
    expect(cut.messages.at(-1)).toMatchObject({ event: 'closed', data: { reason: expect.stringContaining('shutting down') } });
    const lastId = cut.messages.filter((m) => m.id !== undefined && m.id !== '').at(-1)?.id;
    const resumed = await readJobStream(deployment.api.baseUrl, id, ADMIN, { lastEventId: lastId });
    expect(resumed.messages.at(-1)).toMatchObject({ event: 'end', data: { status: 'successful' } });
    const lines = (messages: StreamMessage[]) =>
      messages.filter((m) => m.event === 'output').flatMap((m) => (m.data as { lines: string[] }).lines);
    expect([...lines(cut.messages), ...lines(resumed.messages)].join('\n')).toBe((await deployment.api.output(id)).replace(/\n$/, ''));
  });

  it('lets a SIGTERMed runner finish its running job, hands it no new one, and another runner takes the queued job', async () => {
    const running = await deployment.api.submit('/api/ansibleplaybook', slow(4));
    await started(running);
    const draining = await runnerOf(running);
    draining.signal('SIGTERM');
    const url = deployment.runnerUrls[deployment.runners.indexOf(draining)];
    expect(await eventually(async () => {
      const ready = await readiness(url, '/health/ready');
      return ready.status === 503 && ready.body;
    }, 'the draining runner to answer not ready')).toMatchObject({ statusCode: 503, message: 'Not ready: shutting down' });
    expect((await readiness(url, '/health')).status).toBe(200);

    // The draining runner has a free slot: a runner still consuming would take this job.
    const queued = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
    const other = await deployment.startRunner();
    expect(await deployment.api.waitForTask(queued)).toMatchObject({ Status: 'SUCCESS' });
    expect((await job(queued)).runner).toContain(`:${other.pid}:`);
    expect(await deployment.api.waitForTask(running)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
    expect((await job(running)).runner).toContain(`:${draining.pid}:`);
    await draining.waitForExit();
  });

  it('stops a draining runner\'s jobs at once on a second SIGTERM, as error "runner shut down"', async () => {
    const sleep = marker();
    sleeps.push(sleep);
    const id = await deployment.api.submit('/api/ansibleplaybook', slow(sleep));
    await started(id);
    const runner = await runnerOf(id);
    runner.signal('SIGTERM');
    await runner.waitForLog(/Draining: no new job/);
    runner.signal('SIGTERM');
    await runner.waitForExit();
    expect(await job(id)).toMatchObject({ status: 'error', reason: 'runner shut down' });
  });

  it('stops the jobs still running when the grace period is over, as error "runner shut down"', async () => {
    const runner = await deployment.startRunner({ FLANSIBLE_SHUTDOWN_GRACE: '1' });
    const sleep = marker();
    sleeps.push(sleep);
    const id = await deployment.api.submit('/api/ansibleplaybook', slow(sleep));
    await started(id);
    runner.signal('SIGTERM');
    await runner.waitForExit();
    expect(runner.logs).toMatch(/Drain ended, the grace period is over: stopping 1 job/);
    expect(await job(id)).toMatchObject({ status: 'error', reason: 'runner shut down' });
  });
});

describe('drain, not kill (embedded)', () => {
  const deployment = new Deployment('embedded', { runnerConcurrency: 1, env: { FLANSIBLE_SHUTDOWN_GRACE: '600' } });

  beforeAll(() => deployment.boot());
  afterAll(() => deployment.stop(), 60_000);

  it('on SIGTERM ends live streams with a retry hint, lets the running job finish, and keeps the queued one for the next start', async () => {
    const api = deployment.api;
    expect(await readiness(api.baseUrl, '/api/health/ready')).toEqual({
      status: 200,
      body: { status: 'ok', checks: { store: { status: 'up' }, queue: { status: 'up' } } },
    });
    const running = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } });
    await eventually(async () => (await api.output(running)).includes('slow-started-marker'), 'the slow job to start');
    const queued = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
    const stream = await openStream(api.baseUrl, running);

    deployment.gateway.signal('SIGTERM');
    const cut = await stream.read;
    expect(cut.messages.some((m) => m.event === 'end')).toBe(false);
    expect(cut.retries).toHaveLength(2);
    await deployment.gateway.waitForExit();
    expect(deployment.gateway.logs).toMatch(/Drained: every job finished/);

    await deployment.startGateway();
    expect((await api.get<JobResource>(`/api/v1/jobs/${running}`)).body).toMatchObject({ status: 'successful' });
    expect(await api.waitForTask(queued)).toMatchObject({ Status: 'SUCCESS' });
  });
});
