import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule } from '@flansible/config';
import {
  JOB_MESSAGE_SCHEMA_VERSION,
  JobMessage,
  JobNotice,
  JobSpec,
  JobStatus,
  isTerminalStatus,
} from '@flansible/contracts';
import { InProcessJobCancelBus, InProcessJobNoticeBus, InProcessJobQueue, JobCancelBus, JobNoticeBus, JobQueue } from '@flansible/queue';
import { RunnerJobStore } from '@flansible/store';
import { eventually, gate } from '@flansible/testing';
import { randomUUID } from 'node:crypto';
import { ExecutionModule } from './execution.module';
import { startJobConsumer } from './job-consumer';
import { JOB_RUNNER_OPTIONS, JobRunnerService } from './job-runner.service';
import { processGroupIsAlive } from './process-runner';
import { abandonedJobReason, LostRunnerSweeper, lostRunnerReason } from './lost-runner-sweeper';
import { RunnerHeartbeatService } from './runner-heartbeat.service';
import { RUNNER_HEARTBEAT_OPTIONS, RunnerHeartbeatOptions } from './runner-liveness-options';
import { AnsibleSandbox, createAnsibleSandbox } from './testing/ansible-sandbox';
import { GlobalProvidersModule } from './testing/global-providers';
import { InMemoryJobStore } from './testing/in-memory-output-store';
import { PING_EVENT_TYPES, pingSpec, sleeperSpec } from './testing/runner-job-specs';
import { jobReaching } from './testing/job-waits';

jest.setTimeout(30_000);

/**
 * The runner with the notice bus (the real in-process one) and its heartbeat, over the in-memory
 * store, with real Ansible on localhost.
 */

interface RunnerApp {
  app: INestApplicationContext;
  store: InMemoryJobStore;
  queue: InProcessJobQueue;
  bus: InProcessJobNoticeBus;
  cancels: InProcessJobCancelBus;
  runner: JobRunnerService;
  heartbeat: RunnerHeartbeatService;
  sweeper: LostRunnerSweeper;
}

let sandbox: AnsibleSandbox;

beforeAll(async () => {
  sandbox = await createAnsibleSandbox();
});
afterAll(() => sandbox.dispose());

const FAST_HEARTBEAT: RunnerHeartbeatOptions = { heartbeatMs: 100, lostAfterMs: 1_000, sweepEveryBeats: 2 };

/** Builds the app; `beforeStart` runs before the lifecycle hooks (heartbeat, consuming). */
async function startRunnerApp(store = new InMemoryJobStore(), beforeStart?: (store: InMemoryJobStore) => Promise<void>): Promise<RunnerApp> {
  const queue = new InProcessJobQueue();
  const bus = new InProcessJobNoticeBus();
  const cancels = new InProcessJobCancelBus();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(sandbox.config),
      GlobalProvidersModule.with(
        { provide: RunnerJobStore, useValue: store },
        { provide: JobQueue, useValue: queue },
        { provide: JobNoticeBus, useValue: bus },
        { provide: JobCancelBus, useValue: cancels },
        { provide: JOB_RUNNER_OPTIONS, useValue: { killGraceMs: 500 } },
        { provide: RUNNER_HEARTBEAT_OPTIONS, useValue: FAST_HEARTBEAT },
      ),
      ExecutionModule,
    ],
  }).compile();
  const runner = moduleRef.get(JobRunnerService);
  const heartbeat = moduleRef.get(RunnerHeartbeatService);
  const sweeper = moduleRef.get(LostRunnerSweeper);
  await beforeStart?.(store);
  const app = await moduleRef.createNestApplication({ logger: ['error', 'warn'] }).init();
  await startJobConsumer(app);
  return { app, store, queue, bus, cancels, runner, heartbeat, sweeper };
}

function message(spec: JobSpec, jobId = randomUUID()): JobMessage {
  return { schemaVersion: JOB_MESSAGE_SCHEMA_VERSION, jobId, submittedBy: 'tester', submittedAt: new Date().toISOString(), spec };
}

const finished = (store: RunnerJobStore, jobId: string) => jobReaching(store, jobId, (job) => isTerminalStatus(job.status));


const until = (condition: () => Promise<boolean> | boolean) => eventually(condition, 'the condition', { timeoutMs: 20_000, intervalMs: 25 });

const ping = (): JobSpec => pingSpec(sandbox);
const sleeper = (marker: string): Promise<JobSpec> => sleeperSpec(sandbox, marker);

describe('JobRunnerService with the notice bus', () => {
  let r: RunnerApp;
  beforeAll(async () => {
    r = await startRunnerApp();
  });
  afterAll(() => r.app.close());

  /** What the gateway does: the job row first, then the message. */
  async function submit(spec: JobSpec, jobId = randomUUID()): Promise<string> {
    await r.store.createJob({ id: jobId, submittedBy: 'tester', spec, createdAt: new Date() });
    await r.queue.publish(message(spec, jobId));
    return jobId;
  }

  /** Submits a sleeper and resolves once its command runs, with the pid of its process group. */
  async function startSleeper(marker: string): Promise<{ jobId: string; pgid: () => number }> {
    let pgid = 0;
    const executor = r.runner['executor'];
    const original = executor.execute.bind(executor);
    jest.spyOn(executor, 'execute').mockImplementationOnce((spec, options) => original(spec, { ...options, onSpawn: (pid) => (pgid = pid) }));
    const jobId = await submit(await sleeper(marker));
    await until(async () => (await r.store.readOutput(jobId)).includes(`sleeping-${marker}`));
    return { jobId, pgid: () => pgid };
  }

  it('tells the bus about status, output and events, each once the store has it', async () => {
    const jobId = randomUUID();
    const seen: { what: JobNotice['what']; status: JobStatus; output: number; events: number }[] = [];
    const stop = r.bus.listen(jobId, (notice) => {
      void (async () => {
        const job = await r.store.findJob(jobId);
        seen.push({ what: notice.what, status: job!.status, output: (await r.store.readOutput(jobId)).length, events: job!.eventCount });
      })();
    });
    await submit(ping(), jobId);
    const job = await finished(r.store, jobId);
    await until(() => seen.some((s) => s.what === 'status' && isTerminalStatus(s.status)));
    stop();
    expect(job.status).toBe(JobStatus.Successful);
    expect(seen[0]).toMatchObject({ what: 'status', status: JobStatus.Running });
    expect(seen.at(-1)).toMatchObject({ what: 'status', status: JobStatus.Successful });
    expect(seen.filter((s) => s.what === 'output').length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.what === 'events').length).toBeGreaterThan(0);
    for (const s of seen.filter((s) => s.what === 'output')) expect(s.output).toBeGreaterThan(0);
    for (const s of seen.filter((s) => s.what === 'events')) expect(s.events).toBeGreaterThan(0);
    const events = await r.store.readEvents(jobId, { limit: 100 });
    expect(events.map((e) => e.type)).toEqual(PING_EVENT_TYPES);
    expect(events.map((e) => e.counter)).toEqual([1, 2, 3, 4, 5]);
    // Everything was stored before the outcome: the last notice saw all of it.
    expect(seen.at(-1)).toMatchObject({ output: (await r.store.readOutput(jobId)).length, events: 5 });
  });

  it('stops a running job on a cancel request from the bus, its whole process tree', async () => {
    const { jobId, pgid } = await startSleeper('321.25');
    // As the gateway does: the request in the store, then the bus message that says "look now".
    expect(await r.store.cancelJob(jobId, 'Canceled by alice', new Date())).toBe('requested');
    await r.cancels.requestCancel({ jobId, reason: 'Canceled by alice' });
    expect(await finished(r.store, jobId)).toMatchObject({ status: JobStatus.Canceled, reason: 'Canceled by alice', returnCode: null });
    expect(await processGroupIsAlive(pgid())).toBe(false);
  });

  it('ignores a cancel message the store holds no request for (a forged one)', async () => {
    const { jobId } = await startSleeper('2.125');
    await r.cancels.requestCancel({ jobId, reason: 'Canceled by mallory' });
    expect(await finished(r.store, jobId)).toMatchObject({ status: JobStatus.Successful, reason: null });
    expect((await r.store.findJob(jobId))?.cancelRequestedAt).toBeNull();
  });

  it('ignores a cancel request for a job that does not run here', async () => {
    await r.cancels.requestCancel({ jobId: randomUUID(), reason: 'Canceled by alice' });
    const jobId = await submit(ping());
    expect((await finished(r.store, jobId)).status).toBe(JobStatus.Successful);
  });

  it('stops a job whose cancel request the bus lost, on a later heartbeat', async () => {
    const { jobId, pgid } = await startSleeper('322.25');
    // Only the store knows: what the gateway's cancel leaves behind when the broker dropped the message.
    expect(await r.store.cancelJob(jobId, 'Canceled by bob', new Date())).toBe('requested');
    expect(await finished(r.store, jobId)).toMatchObject({ status: JobStatus.Canceled, reason: 'Canceled by bob' });
    expect(await processGroupIsAlive(pgid())).toBe(false);
  });

  it('never starts a job canceled while it was queued', async () => {
    const spec = ping();
    const jobId = randomUUID();
    await r.store.createJob({ id: jobId, submittedBy: 'tester', spec, createdAt: new Date() });
    expect(await r.store.cancelJob(jobId, 'Canceled by carol', new Date())).toBe('canceled');
    const execute = jest.spyOn(r.runner['executor'], 'execute');
    execute.mockClear();
    await r.runner.handle(message(spec, jobId), { redelivered: false });
    expect(execute).not.toHaveBeenCalled();
    expect(await r.store.findJob(jobId)).toMatchObject({ status: JobStatus.Canceled, reason: 'Canceled by carol', startedAt: null });
    expect(await r.store.readOutput(jobId)).toBe('');
  });
});

describe('RunnerHeartbeatService', () => {
  it('records a heartbeat before taking jobs, ends the jobs of lost runners at start and later, and leaves on shutdown', async () => {
    const early = randomUUID();
    const r = await startRunnerApp(undefined, async (store) => {
      // A job left running by a runner that crashed: no heartbeat at all.
      await store.createJob({ id: early, submittedBy: 'tester', spec: ping(), createdAt: new Date() });
      await store.claimJob(early, 'crashed-host:1:aaaaaa', new Date());
    });
    let closed = false;
    const lost = (runnerId: string) => lostRunnerReason(FAST_HEARTBEAT.lostAfterMs!, runnerId);
    const beating = setInterval(() => void r.store.recordHeartbeat('alive-host:2:bbbbbb', new Date()), 100);
    try {
      // The check when the runner starts, before its first heartbeat interval.
      expect(r.store.heartbeats.get(r.runner.runnerId)).toBeInstanceOf(Date);
      expect(await r.store.findJob(early)).toMatchObject({ status: JobStatus.Error, reason: lost('crashed-host:1:aaaaaa') });

      // A runner that beats for a while, then goes silent; and one that keeps beating.
      const later = randomUUID();
      const alive = randomUUID();
      for (const [id, runnerId] of [
        [later, 'silent-host:3:cccccc'],
        [alive, 'alive-host:2:bbbbbb'],
      ]) {
        await r.store.createJob({ id, submittedBy: 'tester', spec: ping(), createdAt: new Date() });
        await r.store.claimJob(id, runnerId, new Date());
      }
      await r.store.recordHeartbeat('silent-host:3:cccccc', new Date());
      const notices: JobNotice[] = [];
      r.bus.listen(later, (notice) => notices.push(notice));

      // This runner's own job keeps running across the sweeps.
      const own = randomUUID();
      const spec = await sleeper('323.25');
      await r.store.createJob({ id: own, submittedBy: 'tester', spec, createdAt: new Date() });
      await r.queue.publish(message(spec, own));

      expect(await finished(r.store, later)).toMatchObject({ status: JobStatus.Error, reason: lost('silent-host:3:cccccc') });
      await until(() => notices.some((n) => n.what === 'status'));
      // Two more sweeps: the live runners' jobs are left alone.
      await new Promise((resolve) => setTimeout(resolve, 2 * FAST_HEARTBEAT.heartbeatMs! * FAST_HEARTBEAT.sweepEveryBeats! + 100));
      expect((await r.store.findJob(alive))!.status).toBe(JobStatus.Running);
      expect((await r.store.findJob(own))!.status).toBe(JobStatus.Running);
      expect(r.store.heartbeats.get(r.runner.runnerId)!.getTime()).toBeGreaterThan(Date.now() - 1_000);

      await r.app.close();
      closed = true;
      expect(r.store.heartbeats.has(r.runner.runnerId)).toBe(false);
      expect(await r.store.findJob(own)).toMatchObject({ status: JobStatus.Error, reason: 'The runner shut down while the job was running' });
    } finally {
      clearInterval(beating);
      if (!closed) await r.app.close();
    }
  });

  it('ends a job the store shows running on this live runner although it no longer runs it', async () => {
    const r = await startRunnerApp();
    try {
      // What a lost outcome leaves: the job claimed by this runner, which holds nothing for it.
      const orphan = randomUUID();
      await r.store.createJob({ id: orphan, submittedBy: 'tester', spec: ping(), createdAt: new Date() });
      await r.store.claimJob(orphan, r.runner.runnerId, new Date());
      const notices: JobNotice[] = [];
      r.bus.listen(orphan, (notice) => notices.push(notice));
      expect(await finished(r.store, orphan)).toMatchObject({ status: JobStatus.Error, reason: abandonedJobReason(r.runner.runnerId), returnCode: null });
      await until(() => notices.some((n) => n.what === 'status'));
    } finally {
      await r.app.close();
    }
  });

  it('leaves alone a job being claimed and a finished job whose outcome the store has not taken yet', async () => {
    const r = await startRunnerApp();
    try {
      // A claim the store has made but whose answer has not reached the runner yet.
      const claimed = gate();
      const claimNextJob = r.store.claimNextJob.bind(r.store);
      jest.spyOn(r.store, 'claimNextJob').mockImplementationOnce(async (...args) => {
        const job = await claimNextJob(...args);
        await claimed.wait;
        return job;
      });
      const jobId = randomUUID();
      await r.store.createJob({ id: jobId, submittedBy: 'tester', spec: ping(), createdAt: new Date() });
      await r.queue.publish(message(ping(), jobId));
      await jobReaching(r.store, jobId, (job) => job.status === JobStatus.Running);
      expect(await r.sweeper.endAbandonedJobs()).toEqual([]);

      // Then its outcome, refused by the store twice: held here, retried, not abandoned.
      const completeJob = jest.spyOn(r.store, 'completeJob');
      completeJob.mockRejectedValueOnce(new Error('database unavailable')).mockRejectedValueOnce(new Error('database unavailable'));
      claimed.release();
      await until(() => completeJob.mock.calls.length >= 1);
      expect(r.runner.isRunning(jobId)).toBe(false);
      expect(await r.sweeper.endAbandonedJobs()).toEqual([]);
      expect(r.runner.interrupt(jobId, JobStatus.Canceled, 'too late')).toBe(false);
      expect(await finished(r.store, jobId)).toMatchObject({ status: JobStatus.Successful, reason: null });
      expect(completeJob).toHaveBeenCalledTimes(3);
    } finally {
      await r.app.close();
    }
  });

  it('stops a job of its own that the store has already ended as lost', async () => {
    const r = await startRunnerApp();
    try {
      const own = randomUUID();
      const spec = await sleeper('324.25');
      await r.store.createJob({ id: own, submittedBy: 'tester', spec, createdAt: new Date() });
      await r.queue.publish(message(spec, own));
      await until(async () => (await r.store.readOutput(own)).includes('sleeping-324.25'));
      // As after a store outage long enough for this runner to count as lost.
      r.store.heartbeats.set(r.runner.runnerId, new Date(0));
      expect(await r.sweeper.failJobsOfLostRunners()).toEqual([own]);
      await until(() => !r.runner.isRunning(own));
      expect(await r.store.findJob(own)).toMatchObject({ status: JobStatus.Error, reason: lostRunnerReason(FAST_HEARTBEAT.lostAfterMs!, r.runner.runnerId) });
    } finally {
      await r.app.close();
    }
  });
});
