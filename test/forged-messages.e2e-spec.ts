import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobMessage, Topology } from '@flansible/contracts';
import { eventually } from './support/api-client';
import { Deployment } from './support/deployment';

jest.setTimeout(120_000);

const DEVADMIN = { user: 'devadmin', password: 'devpassword' };

/**
 * Someone with broker credentials (RabbitMQ is often shared) publishes job messages and cancel
 * requests of their own. The runner runs only what the gateway stored and stops only what the
 * store says was canceled: a message is a wake-up, never an order.
 */
describe('forged broker messages (distributed)', () => {
  const deployment = new Deployment('distributed', { runners: 0, runnerConcurrency: 2 });
  const canary = deployment.fixture.canary('forged');
  const shellSpec = (inventoryPath: string) => ({
    kind: JobKind.Command,
    inventoryPath,
    hostPattern: 'localhost',
    module: 'raw',
    moduleArgs: `touch ${canary}`,
    unrestricted: true,
  });

  async function publish(exchange: string, routingKey: string, body: unknown): Promise<void> {
    const connection = await connect(deployment.env.FLANSIBLE_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { persistent: true, type: Topology.jobMessageType });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  }
  const forgedJob = (jobId: string, inventoryPath: string): JobMessage => ({
    schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
    jobId,
    submittedBy: 'admin',
    submittedAt: new Date().toISOString(),
    spec: shellSpec(inventoryPath) as JobMessage['spec'],
  });

  beforeAll(() => deployment.boot());
  afterAll(() => deployment.stop());

  it("runs the job the gateway stored, not a forged message's spec for its id", async () => {
    // No runner yet: the job waits in the queue while the forged message joins it.
    const api = deployment.api.as(DEVADMIN);
    const id = await api.submit('/api/ansiblecommand', { host_pattern: 'all', inventory: 'dev', module: 'ping' });
    const stored = await api.get<{ request: { inventory: string } }>(`/api/v1/jobs/${id}`);
    await publish('', Topology.jobsQueue, forgedJob(id, stored.body.request.inventory));
    // And one for a job nobody submitted.
    await publish('', Topology.jobsQueue, forgedJob(randomUUID(), stored.body.request.inventory));
    const runner = await deployment.startRunner();

    expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    expect(await api.output(id)).toContain('"ping": "pong"');
    expect((await api.get(`/api/v1/jobs/${id}`)).body).toMatchObject({ submitted_by: 'devadmin', request: { module: 'ping' } });
    await runner.waitForLog(/No queued job left for the message of job/);
    expect(deployment.fixture.canaryExists()).toBe(false);
    expect(await deployment.countJobs()).toBe(1);
  });

  it('ignores a forged cancel request: the job runs on and nothing is recorded', async () => {
    const api = deployment.api;
    const job = await api.sdk.submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } });
    await eventually(async () => (await api.output(job.id)).includes('slow-started-marker'), 'the slow job to start');
    await publish(Topology.controlExchange, '', { jobId: job.id, reason: 'Canceled by mallory' });
    const done = await api.sdk.waitForJob(job.id, { timeoutMs: 30_000, intervalMs: 100 });
    expect(done).toMatchObject({ status: 'successful', reason: null, cancel_requested_at: null });
    await deployment.runners[0].waitForLog(/Ignored a cancel message for job .* the store holds no cancel request/);
  });

  it('still stops a job on a real cancel', async () => {
    const api = deployment.api;
    const job = await api.sdk.submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 30 } });
    await eventually(async () => (await api.output(job.id)).includes('slow-started-marker'), 'the slow job to start');
    await api.sdk.cancelJob(job.id);
    expect(await api.sdk.waitForJob(job.id, { timeoutMs: 30_000, intervalMs: 100 })).toMatchObject({ status: 'canceled', reason: 'Canceled by admin' });
  });
});
