import { randomUUID } from 'node:crypto';
import { Credentials, eventually } from './support/api-client';
import { Deployment, DeploymentKind } from './support/deployment';
import { Scrape, sample, scrapeMetrics } from './support/metrics';
import { readJobStream } from './support/sse-client';

jest.setTimeout(120_000);

const ADMIN: Credentials = { user: 'admin', password: 'admin' };
/** In the fixture's rbac.json, a user with inventories of their own and no admin rights. */
const NON_ADMIN: Credentials = { user: 'devadmin', password: 'devpassword' };

const PING = { host_pattern: 'localhost', module: 'ping' };
const SUCCESSFUL_PINGS = 'flansible_jobs_finished_total{kind="command",status="successful"}';
const PING_DURATIONS = 'flansible_job_duration_seconds_count{kind="command",status="successful"}';

/** The series of Flansible's own metrics (the default process metrics may add a GC kind or a handle type). */
const flansibleSeries = (scrape: Scrape) => [...scrape.series.keys()].filter((key) => key.startsWith('flansible_')).sort();

/**
 * Prometheus metrics on real processes: the gateway's /metrics (admins only by default) and, in
 * the distributed deployment, each runner's own /metrics without credentials. In the embedded
 * deployment the gateway's shows the runner's metrics too.
 */
describe.each<[DeploymentKind]>([['embedded'], ['distributed']])('metrics (%s)', (kind) => {
  const deployment = new Deployment(kind, { runners: 1, runnerConcurrency: 1 });
  const gateway = () => scrapeMetrics(deployment.api.baseUrl, ADMIN);
  /** Where the runner's metrics are: its own listener, or the embedded gateway. */
  const runner = () => (kind === 'embedded' ? gateway() : scrapeMetrics(deployment.runnerUrls[0], null));

  beforeAll(() => deployment.boot());
  afterAll(() => deployment.stop());

  it('needs an admin on the gateway: 401 without credentials, 403 for a non-admin, the text format for an admin', async () => {
    expect((await scrapeMetrics(deployment.api.baseUrl, null)).status).toBe(401);
    expect((await scrapeMetrics(deployment.api.baseUrl, NON_ADMIN)).status).toBe(403);
    const scrape = await gateway();
    expect(scrape.status).toBe(200);
    expect(scrape.contentType).toMatch(/^text\/plain; .*version=0\.0\.4/);
    expect(scrape.series.has('process_cpu_seconds_total')).toBe(true);
  });

  it('moves submitted, finished{status="successful"} and the duration histogram by exactly one for one ping', async () => {
    const [gatewayBefore, runnerBefore] = [await gateway(), await runner()];
    const id = await deployment.api.submit('/api/ansiblecommand', PING);
    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    const [gatewayAfter, runnerAfter] = [await gateway(), await runner()];
    if (kind === 'distributed') expect(runnerAfter.status).toBe(200); // no credentials
    const delta = (after: Scrape, before: Scrape, key: string) => sample(after, key) - sample(before, key);
    expect(delta(gatewayAfter, gatewayBefore, 'flansible_jobs_submitted_total{kind="command"}')).toBe(1);
    expect(delta(runnerAfter, runnerBefore, SUCCESSFUL_PINGS)).toBe(1);
    expect(delta(runnerAfter, runnerBefore, PING_DURATIONS)).toBe(1);
    expect(delta(runnerAfter, runnerBefore, 'flansible_job_queue_wait_seconds_count')).toBe(1);
    expect(delta(runnerAfter, runnerBefore, 'flansible_output_lines_total')).toBeGreaterThan(0);
    expect(delta(gatewayAfter, gatewayBefore, 'flansible_http_request_duration_seconds_count{method="POST",route="/api/ansiblecommand",status="200"}')).toBe(1);
  });

  it('shows a waiting job as ready, the running one as unacked and running, and an open stream', async () => {
    const api = deployment.api;
    // One job slot: the slow job holds it and the ping waits in the queue.
    const slow = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 60 } });
    await eventually(async () => (await api.output(slow)).includes('slow-started-marker'), 'the slow job to start');
    const ping = await api.submit('/api/ansiblecommand', PING);
    const stream = readJobStream(api.baseUrl, slow, ADMIN);

    // Ready is the broker's count (on every process) or the in-process queue's; unacked and
    // running are the runner's.
    await eventually(async () => sample(await gateway(), 'flansible_stream_clients') === 1, 'the stream to count');
    await eventually(async () => sample(await gateway(), 'flansible_queue_messages{queue="flansible.jobs",state="ready"}') === 1, 'the ping to read as ready');
    const busy = await runner();
    expect(sample(busy, 'flansible_queue_messages{queue="flansible.jobs",state="unacked"}')).toBe(1);
    expect(sample(busy, 'flansible_jobs_running')).toBe(1);
    expect(busy.series.get('flansible_queue_messages{queue="flansible.jobs.dead",state="ready"}')).toBe(0);

    const canceledBefore = sample(busy, 'flansible_jobs_finished_total{kind="playbook",status="canceled"}');
    await api.sdk.cancelJob(slow);
    expect((await stream).messages.at(-1)).toMatchObject({ event: 'end' });
    expect(await api.waitForTask(ping)).toMatchObject({ Status: 'SUCCESS' });
    await eventually(async () => sample(await gateway(), 'flansible_stream_clients') === 0, 'the stream to close');
    const idle = await runner();
    expect(sample(idle, 'flansible_jobs_finished_total{kind="playbook",status="canceled"}') - canceledBefore).toBe(1);
    expect(sample(idle, 'flansible_jobs_running')).toBe(0);
    expect(sample(idle, 'flansible_queue_messages{queue="flansible.jobs",state="unacked"}')).toBe(0);
  });

  it('adds no series for 1,000 requests to distinct unknown paths and ids', async () => {
    const api = deployment.api;
    const send = (i: number) => {
      const unique = `${i}-${randomUUID()}`;
      if (i % 3 === 0) return api.get(`/no-such-${unique}/x`);
      if (i % 3 === 1) return api.post(`/api/no-such-${unique}`, { x: unique });
      return api.as(null).get(`/api/v1/jobs/${unique}`); // a route template, with an unknown id
    };
    // Each kind of request once, so its series exists before the baseline.
    for (let i = 0; i < 3; i++) await send(i);
    const before = flansibleSeries(await gateway());
    for (let start = 3; start < 1003; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => send(start + j)));
    }
    const after = await gateway();
    expect(flansibleSeries(after)).toEqual(before);
    expect(sample(after, 'flansible_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBeGreaterThanOrEqual(334);
    expect(sample(after, 'flansible_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/:id",status="401"}')).toBeGreaterThanOrEqual(333);
  });
});

describe('metrics settings (embedded)', () => {
  it('serves the gateway /metrics without credentials with FLANSIBLE_METRICS_PUBLIC=true', async () => {
    const deployment = await Deployment.start('embedded', { env: { FLANSIBLE_METRICS_PUBLIC: 'true' } });
    try {
      const scrape = await scrapeMetrics(deployment.api.baseUrl, null);
      expect(scrape.status).toBe(200);
      expect(scrape.series.has('flansible_jobs_running')).toBe(true);
    } finally {
      await deployment.stop();
    }
  });

  it('has no /metrics with FLANSIBLE_METRICS=false, and jobs still run', async () => {
    const deployment = await Deployment.start('embedded', { env: { FLANSIBLE_METRICS: 'false' } });
    try {
      expect((await scrapeMetrics(deployment.api.baseUrl, ADMIN)).status).toBe(404);
      const id = await deployment.api.submit('/api/ansiblecommand', PING);
      expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    } finally {
      await deployment.stop();
    }
  });
});
