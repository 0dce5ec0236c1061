import { connect } from 'amqplib';
import { TERMINAL_JOB_STATUSES, Topology, retryQueueName } from '@flansible/contracts';
import { abandonedJobReason } from '@flansible/execution';
import { eventually } from './support/api-client';
import { Deployment, DeploymentKind } from './support/deployment';
import { StoreFault } from './support/store-fault';

jest.setTimeout(120_000);

const PING = { host_pattern: 'localhost', module: 'ping' };

/**
 * The store failing for a few seconds, through a trigger on the deployment's own database, while
 * real runners work: a finished job's outcome is recorded once the store takes it again, a claim
 * that fails comes back after a growing delay instead of being dead-lettered, and a job left
 * `running` on a live runner that no longer runs it is ended.
 */
describe.each<[DeploymentKind]>([['distributed'], ['embedded']])('store faults (%s)', (kind) => {
  const deployment = new Deployment(kind, {
    runners: 2,
    runnerConcurrency: 1,
    env: { FLANSIBLE_HEARTBEAT_INTERVAL: '1', FLANSIBLE_RUNNER_LOST_AFTER: '3' },
  });
  const fault = new StoreFault(deployment);
  /** The processes that run jobs: the runners, or the embedded gateway. */
  const runners = () => (kind === 'distributed' ? deployment.runners : [deployment.gateway]);
  const logged = (pattern: RegExp) =>
    eventually(async () => runners().some((p) => pattern.test(p.logs)), `a runner to log ${pattern}`).catch((err: Error) => {
      throw new Error(`${err.message}\n${runners().map((p) => `--- ${p.name}\n${p.logs.slice(-4000)}`).join('\n')}`);
    });

  beforeAll(async () => {
    await deployment.boot();
    await fault.install();
  });
  afterEach(() => fault.clear());
  afterAll(() => deployment.stop());

  /**
   * The job's message went nowhere else: no other runner got it (and found the job no longer
   * queued), no copy waits in a retry queue, nothing was dead-lettered.
   */
  async function expectSettledHere(id: string): Promise<void> {
    expect(runners().some((p) => p.logs.includes(`No queued job left for the message of job ${id}`))).toBe(false);
    expect(runners().some((p) => /dead-lettering|Dropping job/.test(p.logs))).toBe(false);
    if (kind !== 'distributed') return;
    const connection = await connect(deployment.env.FLANSIBLE_AMQP_URL);
    try {
      const channel = await connection.createChannel();
      for (const name of [Topology.jobsQueue, Topology.deadLetterQueue, ...Topology.retryDelaysMs.map(retryQueueName)]) {
        expect({ name, ready: (await channel.checkQueue(name)).messageCount }).toEqual({ name, ready: 0 });
      }
    } finally {
      await connection.close();
    }
  }

  it("records a finished job's outcome once the store takes it again, from the runner that ran it", async () => {
    await fault.refuse(TERMINAL_JOB_STATUSES);
    const id = await deployment.api.submit('/api/ansiblecommand', PING);
    // Three refusals spread over 3.5 s: well past the old three tries, which handed the message on.
    await logged(new RegExp(`Could not record the successful outcome of job ${id} \\(attempt 3\\)`));
    await fault.clear();

    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
    expect((await deployment.api.get(`/api/v1/jobs/${id}`)).body).toMatchObject({ status: 'successful', reason: null });
    expect((await deployment.api.output(id)).match(/"ping": "pong"/g)).toHaveLength(1);
    await logged(new RegExp(`Recorded the successful outcome of job ${id} on attempt \\d+`));
    await expectSettledHere(id);
  });

  it('brings a job whose claim the store refused back after a growing delay, and runs it', async () => {
    await fault.refuse(['running']);
    const id = await deployment.api.submit('/api/ansiblecommand', PING);
    // The second refusal: the job waits 2 s now, not a moment, before its third delivery.
    await logged(new RegExp(`Job ${id} failed on delivery 2 of ${Topology.deliveryLimit + 1}; retrying in 2 s`));
    await fault.clear();

    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
    await expectSettledHere(id);
  });

  it('ends a job the store shows running on a live runner that no longer runs it', async () => {
    const id = await deployment.api.submit('/api/ansiblecommand', PING);
    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });
    // What a lost outcome leaves behind: the job running, in the store only, on its live runner.
    const [{ runner_id: runnerId }] = await deployment.storeSql<{ runner_id: string }>('SELECT runner_id FROM jobs WHERE id = $1', [id]);
    await deployment.storeSql("UPDATE jobs SET status = 'running', reason = NULL, return_code = NULL, finished_at = NULL WHERE id = $1", [id]);

    expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE', returncode: null });
    expect((await deployment.api.get(`/api/v1/jobs/${id}`)).body).toMatchObject({ status: 'error', reason: abandonedJobReason(runnerId) });
  });
});
