import { ApiClient, eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { FlansibleProcess, GATEWAY_MAIN, RUNNER_MAIN, freePort } from './support/flansible-process';
import { listQueues, queryDatabase } from './support/services';
import { describeJobPipeline } from './scenarios/job-pipeline.scenarios';
import { Topology } from '@flansible/contracts';
import { BrokerProxy } from '../libs/queue/src/testing/broker-proxy';

jest.setTimeout(120_000);

describeJobPipeline('distributed');

describe('distributed deployment on RabbitMQ and PostgreSQL', () => {
  let deployment: Deployment;
  const slow = { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } };

  beforeAll(async () => {
    deployment = await Deployment.start('distributed', { runners: 2, runnerConcurrency: 1 });
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('declares a durable quorum job queue with a dead-letter queue', async () => {
    const queues = await listQueues(deployment.vhost as string, ['name', 'type', 'durable', 'arguments']);
    const jobs = queues.find(([name]) => name === Topology.jobsQueue);
    expect(jobs).toBeDefined();
    expect(jobs?.[1]).toBe('quorum');
    expect(jobs?.[2]).toBe('true');
    expect(jobs?.[3]).toContain(Topology.deadLetterExchange);
    expect(queues.some(([name]) => name === Topology.deadLetterQueue)).toBe(true);
  });

  it('runs each runner as a hybrid Nest app: the job handler on the queue, liveness on its own HTTP port', async () => {
    for (const [i, runner] of deployment.runners.entries()) {
      await runner.waitForLog(/Runner HTTP \(GET \/health\/live\)/);
      const res = await fetch(`${deployment.runnerUrls[i]}/health/live`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', runner: expect.stringMatching(/^.+:\d+:[0-9a-f]{6}$/), running_jobs: 0 });
    }
  });

  it('stops a runner whose HTTP port is taken before it takes any job, saying what to change', async () => {
    const taken = new URL(deployment.runnerUrls[0]).port;
    const second = FlansibleProcess.start('runner-port-taken', RUNNER_MAIN, { ...deployment.env, FLANSIBLE_RUNNER_PORT: taken });
    expect(await second.waitForExit()).toBe(78);
    expect(second.logs).toContain(`FLANSIBLE_RUNNER_PORT=${taken}`);
    expect(second.logs).toContain('give each runner on this host its own port, or 0 for none');
    expect(second.logs).not.toMatch(/consuming jobs/);
  });

  it('shares the queue between two runner processes', async () => {
    const ids = [await deployment.api.submit('/api/ansibleplaybook', slow), await deployment.api.submit('/api/ansibleplaybook', slow)];
    for (const id of ids) expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    const rows = await queryDatabase<{ runner_id: string }>(deployment.databaseUrl as string, 'SELECT runner_id FROM jobs WHERE id = ANY($1)', [ids]);
    expect(new Set(rows.map((r) => r.runner_id)).size).toBe(2);
  });

  it('keeps a job running through a gateway restart and reports it from the new gateway', async () => {
    const id = await deployment.api.submit('/api/ansibleplaybook', slow);
    await deployment.gateway.kill();
    await deployment.startGateway();
    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
    expect(await deployment.api.output(id)).toContain('slow-finished-marker');
  });

  it('takes a job submitted while no runner is up once a runner starts', async () => {
    await Promise.all(deployment.runners.splice(0).map((r) => r.stop()));
    const id = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
    expect(await deployment.api.status(id)).toMatchObject({ Status: 'PROGRESS', returncode: null });
    await deployment.startRunner();
    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
  });

  it('makes an Idempotency-Key retry wait for a first attempt under way (409 from another gateway), and frees the key when that attempt fails', async () => {
    // A second gateway reaches the broker through a proxy that can stop passing anything on.
    const proxy = await BrokerProxy.onFreePort();
    await proxy.start();
    const amqpUrl = new URL(deployment.env.FLANSIBLE_AMQP_URL);
    amqpUrl.port = String(proxy.port);
    const port = await freePort();
    const gateway = FlansibleProcess.start('gateway-held-broker', GATEWAY_MAIN, {
      ...deployment.env,
      FLANSIBLE_PORT: String(port),
      FLANSIBLE_AMQP_URL: amqpUrl.toString(),
      FLANSIBLE_PUBLISH_TIMEOUT_MS: '1500',
    });
    try {
      await gateway.waitForLog(/listening on http/);
      const held = new ApiClient(`http://127.0.0.1:${port}`);
      const key = `in-flight-${Date.now()}`;
      const submit = (api: ApiClient) =>
        api.request<Record<string, unknown>>('POST', '/api/v1/jobs/command', {
          json: { host_pattern: 'localhost', module: 'ping' },
          headers: { 'idempotency-key': key },
        });
      const keyed = () => queryDatabase<{ id: string }>(deployment.databaseUrl as string, 'SELECT id FROM jobs WHERE idempotency_key = $1', [key]);

      proxy.hold();
      const first = submit(held);
      await eventually(async () => (await keyed()).length === 1, 'the first attempt to store its job');
      const sameGateway = submit(held);
      const elsewhere = await submit(deployment.api);
      expect(elsewhere.status).toBe(409);
      expect(Number(elsewhere.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(elsewhere.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: `Idempotency-Key ${key} is in use by a submission still under way; retry to get its outcome`,
      });
      // The retry on the first gateway waited for the first attempt's 503, then made its own
      // (the broker still holds everything): neither hands out an id for a job that is not queued.
      expect((await first).status).toBe(503);
      expect((await sameGateway).status).toBe(503);
      expect(await keyed()).toEqual([]);

      proxy.release();
      const retry = await submit(deployment.api);
      expect(retry.status).toBe(202);
      const id = retry.body.id as string;
      expect((await deployment.api.get(`/api/v1/jobs/${id}`)).status).toBe(200);
      expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
      expect((await submit(deployment.api)).body.id).toBe(id);
    } finally {
      proxy.release();
      await gateway.stop();
      await proxy.stop();
    }
  });

  it('answers 503 quickly when the broker is unreachable, and stores nothing', async () => {
    const port = await freePort();
    const gateway = FlansibleProcess.start('gateway-no-broker', GATEWAY_MAIN, {
      ...deployment.env,
      FLANSIBLE_PORT: String(port),
      FLANSIBLE_AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    });
    try {
      await gateway.waitForLog(/listening on http/);
      const before = await queryDatabase<{ n: string }>(deployment.databaseUrl as string, 'SELECT count(*) AS n FROM jobs');
      const res = await new ApiClient(`http://127.0.0.1:${port}`).request<Record<string, unknown>>('POST', '/api/ansiblecommand', {
        json: { host_pattern: 'localhost', module: 'ping' },
        timeoutMs: 15_000,
      });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(/queue unavailable/i) });
      expect(res.body).not.toHaveProperty('task_id');
      const after = await queryDatabase<{ n: string }>(deployment.databaseUrl as string, 'SELECT count(*) AS n FROM jobs');
      expect(after[0].n).toBe(before[0].n);
    } finally {
      await gateway.stop();
    }
  });
});
