import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RbacService } from '@flansible/auth';
import { ConfigModule } from '@flansible/config';
import { JOB_MESSAGE_SCHEMA_VERSION, JobMessage, JobSpec, JobStatus, isTerminalStatus } from '@flansible/contracts';
import { JobQueue, QueueModule } from '@flansible/queue';
import { createJobStore, JobRecord, JobStore, RunnerJobStore, StoreModule } from '@flansible/store';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ExecutionModule } from './execution.module';
import { startJobConsumer } from './job-consumer';
import { JOB_RUNNER_OPTIONS, JobRunnerService } from './job-runner.service';
import { processGroupIsAlive } from './process-runner';
import { AnsibleSandbox, createAnsibleSandbox, SANDBOX_RBAC } from './testing/ansible-sandbox';
import { GlobalProvidersModule } from './testing/global-providers';
import { pingSpec, sleeperSpec } from './testing/runner-job-specs';
import { jobReaching } from './testing/job-waits';

jest.setTimeout(30_000);

/**
 * The runner as the apps assemble it: the real SQLite store and the in-process queue (the
 * embedded deployment), real Ansible on localhost.
 */
let sandbox: AnsibleSandbox;
let app: INestApplication;
let store: JobStore;
let queue: JobQueue;
let runner: JobRunnerService;
let closed = false;

async function startApp(): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(sandbox.config),
      StoreModule.forRoot(),
      QueueModule.forRoot({ role: 'embedded' }),
      GlobalProvidersModule.with({ provide: JOB_RUNNER_OPTIONS, useValue: { killGraceMs: 500 } }),
      ExecutionModule,
    ],
  }).compile();
  app = await moduleRef.createNestApplication({ logger: ['error', 'warn'] }).init();
  await startJobConsumer(app);
  store = app.get<RunnerJobStore, JobStore>(RunnerJobStore);
  queue = app.get(JobQueue);
  runner = app.get(JobRunnerService);
}

beforeAll(async () => {
  sandbox = await createAnsibleSandbox();
  await startApp();
});
afterAll(async () => {
  if (!closed) await app?.close();
  await sandbox.dispose();
});

function message(spec: JobSpec, jobId = randomUUID()): JobMessage {
  return { schemaVersion: JOB_MESSAGE_SCHEMA_VERSION, jobId, submittedBy: 'tester', submittedAt: new Date().toISOString(), spec };
}

/** What the gateway does: the job row first, then the message. */
async function submit(spec: JobSpec): Promise<string> {
  const job = message(spec);
  await store.createJob({ id: job.jobId, submittedBy: job.submittedBy, spec, createdAt: new Date() });
  await queue.publish(job);
  return job.jobId;
}

const waitFor = (jobId: string, predicate: (job: JobRecord) => boolean, within = 20_000, from = () => store) => jobReaching(from(), jobId, predicate, within);
const finished = (jobId: string) => waitFor(jobId, (job) => isTerminalStatus(job.status));

const ping = (): JobSpec => pingSpec(sandbox);
const sleeper = (marker: string): Promise<JobSpec> => sleeperSpec(sandbox, marker);

describe('JobRunnerService', () => {
  it('claims a queued job, runs it and records outcome and output', async () => {
    const jobId = await submit(ping());
    const job = await finished(jobId);
    expect(job).toMatchObject({ status: JobStatus.Successful, reason: null, returnCode: 0, runnerId: runner.runnerId });
    expect(job.startedAt).not.toBeNull();
    expect(await store.readOutput(jobId)).toContain('"ping": "pong"');
    // The plugin's events, numbered by the store, and the summary built from them.
    const events = await store.readEvents(jobId, { limit: 100 });
    expect(events.map((e) => [e.counter, e.type])).toEqual([
      [1, 'playbook_start'],
      [2, 'play_start'],
      [3, 'task_start'],
      [4, 'host_ok'],
      [5, 'stats'],
    ]);
    expect(await store.summarize(jobId)).toEqual([
      { host: 'localhost', ok: 1, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 },
    ]);
  });

  it('acknowledges a redelivered message of a job already started without running it again', async () => {
    const job = message(ping());
    await store.createJob({ id: job.jobId, submittedBy: 'tester', spec: job.spec, createdAt: new Date() });
    expect(await store.claimJob(job.jobId, 'other-host:1:abc', new Date())).toBe(true);
    await expect(runner.handle(job, { redelivered: true })).resolves.toBeUndefined();
    expect(await store.findJob(job.jobId)).toMatchObject({ status: JobStatus.Running, runnerId: 'other-host:1:abc' });
    expect(await store.readOutput(job.jobId)).toBe('');
  });

  it('ends as error, running nothing, a job whose submitter rbac.json no longer holds or no longer allows', async () => {
    const removed = message(ping());
    await store.createJob({ id: removed.jobId, submittedBy: 'left-the-company', spec: removed.spec, createdAt: new Date() });
    await queue.publish(removed);
    expect(await finished(removed.jobId)).toMatchObject({ status: JobStatus.Error, reason: 'submitter no longer allowed: user removed', returnCode: null });
    expect(await store.readOutput(removed.jobId)).toBe('');
    // An admin's spec (unrestricted: no guard inside Ansible) checked for someone who is no admin (any more).
    const rbac = app.get(RbacService);
    await writeFile(sandbox.config.rbacFile, JSON.stringify({ rbac: [...SANDBOX_RBAC.rbac, { user: 'demoted', password: 'x', inventories: ['local'] }] }));
    expect(await rbac.reload()).toBe(true);
    const demoted = message({ ...ping(), unrestricted: true } as JobSpec);
    await store.createJob({ id: demoted.jobId, submittedBy: 'demoted', spec: demoted.spec, createdAt: new Date() });
    await queue.publish(demoted);
    expect(await finished(demoted.jobId)).toMatchObject({ status: JobStatus.Error, reason: 'submitter no longer allowed: unrestricted (admin) run' });
    expect(await store.readOutput(demoted.jobId)).toBe('');
  });

  it('records a job whose paths leave their roots as error, running nothing', async () => {
    const jobId = await submit({ ...ping(), inventoryPath: '/etc/hosts' } as JobSpec);
    expect(await finished(jobId)).toMatchObject({ status: JobStatus.Error, reason: 'Inventory is outside its configured root: /etc/hosts' });
    expect(await store.readOutput(jobId)).toBe('');
  });

  it('cancels a running job, stopping its process tree', async () => {
    const jobId = await submit(await sleeper('311.25'));
    let pgid = 0;
    const original = runner['executor'].execute.bind(runner['executor']);
    jest.spyOn(runner['executor'], 'execute').mockImplementationOnce((spec, options) =>
      original(spec, { ...options, onSpawn: (pid) => (pgid = pid) }),
    );
    await waitFor(jobId, () => runner.runningJobCount > 0);
    // Cancel once the playbook has started its task, so there is a grandchild to stop.
    const deadline = Date.now() + 20_000;
    while (!(await store.readOutput(jobId)).includes('sleeping-311.25') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(runner.cancel(jobId, 'Canceled by tester')).toBe(true);
    expect(await finished(jobId)).toMatchObject({ status: JobStatus.Canceled, reason: 'Canceled by tester', returnCode: null });
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(runner.cancel(jobId)).toBe(false);
  });

  it('keeps the message while the store cannot record the outcome, and records it once the store takes it', async () => {
    const completeJob = jest.spyOn(store, 'completeJob');
    const handle = jest.spyOn(runner, 'handle');
    for (let i = 0; i < 3; i++) completeJob.mockRejectedValueOnce(new Error('database unavailable'));
    const jobId = await submit(ping());
    const job = await finished(jobId);
    expect(job.status).toBe(JobStatus.Successful);
    // Three failed attempts, then the kept outcome was recorded, by this runner, on the first delivery:
    // the message never went back, so no other runner could get it and find the job no longer queued.
    expect(completeJob).toHaveBeenCalledTimes(4);
    expect(handle).toHaveBeenCalledTimes(1);
    await expect(handle.mock.results[0].value).resolves.toBeUndefined();
    expect((await store.readOutput(jobId)).match(/"ping": "pong"/g)).toHaveLength(1);
    completeJob.mockRestore();
    handle.mockRestore();
  });

  // Last: it shuts the app down.
  it('on shutdown stops running jobs and records them as error, so none stays running', async () => {
    const jobId = await submit(await sleeper('312.5'));
    await waitFor(jobId, (job) => job.status === JobStatus.Running);
    await app.close();
    closed = true;
    const reopened = createJobStore(sandbox.config);
    try {
      await reopened.migrate();
      expect(await waitFor(jobId, () => true, 1_000, () => reopened)).toMatchObject({
        status: JobStatus.Error,
        reason: 'The runner shut down while the job was running',
      });
    } finally {
      await reopened.close();
    }
    // A message arriving now is neither run nor acked (it stays with the broker for another runner).
    const late = runner.handle(message(ping()), { redelivered: false });
    const settled = await Promise.race([late.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), 200))]);
    expect(settled).toBe('pending');
  });
});
