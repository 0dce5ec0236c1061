import { JobKind, JobOutcome, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createJobStore } from './create-job-store';
import { JobStore } from './job-store';
import { commandSpec, gitSpec, newJob } from './testing/job-fixtures';
import { STORE_BACKENDS, StoreLocation, withMigratedStores } from './testing/store-backends';

jest.setTimeout(30_000);

const failed: JobOutcome = { status: JobStatus.Failed, reason: 'ansible exited with 2', returnCode: 2 };
const successful: JobOutcome = { status: JobStatus.Successful, reason: null, returnCode: 0 };

describe.each(STORE_BACKENDS)('KyselyJobStore on $name', (backend) => {
  let location: StoreLocation;
  let store: JobStore;
  /** A second store on the same database: its own connection(s), like another process. */
  let other: JobStore;

  withMigratedStores(backend, (opened) => ({ store, other, location } = opened));

  it('round-trips a job: spec JSON, derived columns and dates to the millisecond', async () => {
    const job = newJob({ createdAt: new Date('2024-02-29T23:59:58.123Z'), requestId: 'req-1.a:b' });
    expect(await store.createJob(job)).toEqual({ id: job.id, created: true });

    const found = await other.findJob(job.id);
    expect(found).toEqual({
      id: job.id,
      kind: JobKind.Command,
      status: JobStatus.Queued,
      reason: null,
      returnCode: null,
      submittedBy: 'alice',
      inventory: '/srv/inventories/prod.ini',
      spec: commandSpec,
      runnerId: null,
      createdAt: new Date('2024-02-29T23:59:58.123Z'),
      startedAt: null,
      finishedAt: null,
      priority: 0,
      cancelRequestedAt: null,
      cancelReason: null,
      requestId: 'req-1.a:b',
      outputLines: 0,
      eventCount: 0,
    });
    expect(found?.createdAt).toBeInstanceOf(Date);

    const git = newJob({ spec: gitSpec, priority: 9 });
    await store.createJob(git);
    expect(await store.findJob(git.id)).toMatchObject({ kind: JobKind.Git, inventory: null, spec: gitSpec, priority: 9, requestId: null });
  });

  it("counts a user's queued and running jobs, not finished ones nor other users'", async () => {
    const user = `quota-${randomUUID()}`;
    expect(await store.countOpenJobs(user)).toBe(0);
    const [queued, running, done, canceled] = [newJob({ submittedBy: user }), newJob({ submittedBy: user }), newJob({ submittedBy: user }), newJob({ submittedBy: user })];
    for (const job of [queued, running, done, canceled]) await store.createJob(job);
    await store.createJob(newJob({ submittedBy: `${user}-other` }));
    expect(await other.countOpenJobs(user)).toBe(4);
    await store.claimJob(running.id, 'runner-1', new Date());
    await store.claimJob(done.id, 'runner-1', new Date());
    await store.completeJob(done.id, failed, new Date());
    await store.cancelJob(canceled.id, 'Canceled by test', new Date());
    expect(await other.countOpenJobs(user)).toBe(2);
    expect(typeof (await other.countOpenJobs(user))).toBe('number');
    await store.completeJob(running.id, successful, new Date());
    await store.deleteJob(queued.id);
    expect(await store.countOpenJobs(user)).toBe(0);
  });

  it('finds nothing for an unknown id', async () => {
    expect(await store.findJob(randomUUID())).toBeUndefined();
  });

  it('refuses a second job with the same id', async () => {
    const job = newJob();
    await store.createJob(job);
    // Matched on the message, not toThrow(): under jest workers better-sqlite3's errors can come
    // from another test file's realm and fail `instanceof Error`.
    await expect(store.createJob(job)).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
  });

  it('records the claim and the outcome with their times', async () => {
    const job = newJob();
    await store.createJob(job);
    const startedAt = new Date('2030-01-01T00:00:01.001Z');
    const finishedAt = new Date('2030-01-01T00:00:09.999Z');

    expect(await store.claimJob(job.id, 'runner-a', startedAt)).toBe(true);
    expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Running, runnerId: 'runner-a', startedAt });

    expect(await store.completeJob(job.id, failed, finishedAt)).toBe(true);
    expect(await store.findJob(job.id)).toMatchObject({
      status: JobStatus.Failed,
      reason: 'ansible exited with 2',
      returnCode: 2,
      runnerId: 'runner-a',
      startedAt,
      finishedAt,
    });
  });

  it('lets exactly one of two concurrent claims win, every time', async () => {
    for (let round = 0; round < 25; round++) {
      const job = newJob();
      await store.createJob(job);
      const [a, b] = await Promise.all([
        store.claimJob(job.id, 'runner-a', new Date()),
        other.claimJob(job.id, 'runner-b', new Date()),
      ]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect((await store.findJob(job.id))?.runnerId).toBe(a ? 'runner-a' : 'runner-b');
    }
  });

  it('does not claim a job that is running, finished or missing', async () => {
    const job = newJob();
    await store.createJob(job);
    expect(await store.claimJob(job.id, 'runner-a', new Date())).toBe(true);
    expect(await store.claimJob(job.id, 'runner-b', new Date())).toBe(false);
    expect((await store.findJob(job.id))?.runnerId).toBe('runner-a');

    const canceled = newJob();
    await store.createJob(canceled);
    const canceledOutcome: JobOutcome = { status: JobStatus.Canceled, reason: 'canceled by alice', returnCode: null };
    expect(await store.completeJob(canceled.id, canceledOutcome, new Date())).toBe(true);
    expect(await store.claimJob(canceled.id, 'runner-a', new Date())).toBe(false);
    expect(await store.findJob(canceled.id)).toMatchObject({ status: JobStatus.Canceled, runnerId: null, startedAt: null });

    expect(await store.claimJob(randomUUID(), 'runner-a', new Date())).toBe(false);
  });

  it('never moves a job out of a terminal state', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.claimJob(job.id, 'runner-a', new Date());
    const finishedAt = new Date('2031-05-05T05:05:05.505Z');
    expect(await store.completeJob(job.id, successful, finishedAt)).toBe(true);

    const lost: JobOutcome = { status: JobStatus.Error, reason: 'runner lost', returnCode: null };
    expect(await store.completeJob(job.id, lost, new Date())).toBe(false);
    expect(await other.completeJob(job.id, failed, new Date())).toBe(false);
    expect(await store.findJob(job.id)).toMatchObject({
      status: JobStatus.Successful,
      reason: null,
      returnCode: 0,
      finishedAt,
    });

    expect(await store.completeJob(randomUUID(), lost, new Date())).toBe(false);
  });

  it('lets exactly one of two concurrent completions win', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.claimJob(job.id, 'runner-a', new Date());
    const timedOut: JobOutcome = { status: JobStatus.TimedOut, reason: 'timed out after 10 s', returnCode: null };
    const results = await Promise.all([
      store.completeJob(job.id, timedOut, new Date()),
      other.completeJob(job.id, failed, new Date()),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.findJob(job.id))?.status).toBe(results[0] ? JobStatus.TimedOut : JobStatus.Failed);
  });

  it('reads back output in append order over many batches, kept apart per job', async () => {
    const first = newJob();
    const second = newJob();
    await store.createJob(first);
    await store.createJob(second);
    expect(await store.readOutput(first.id)).toBe('');

    const expectedFirst: string[] = [];
    const expectedSecond: string[] = [];
    for (let i = 0; i < 300; i++) {
      const line = `line ${i} ✓ ${'x'.repeat(i % 17)}\n`;
      // Alternate writers and connections so ids from both jobs interleave.
      await (i % 2 ? other : store).appendOutput(first.id, line);
      expectedFirst.push(line);
      if (i % 3 === 0) {
        await store.appendOutput(second.id, `second ${i}\n`);
        expectedSecond.push(`second ${i}\n`);
      }
    }
    await store.appendOutput(first.id, '');

    expect(await store.readOutput(first.id)).toBe(expectedFirst.join(''));
    expect(await other.readOutput(second.id)).toBe(expectedSecond.join(''));
    expect(await store.readOutput(randomUUID())).toBe('');
  });

  it('stores output and reasons containing NUL (replaced, as PostgreSQL cannot hold it)', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.appendOutput(job.id, 'a\0b');
    expect(await store.readOutput(job.id)).toBe('a\uFFFDb');
    await store.completeJob(job.id, { status: JobStatus.Error, reason: 'bad\0byte', returnCode: null }, new Date());
    expect((await store.findJob(job.id))?.reason).toBe('bad\uFFFDbyte');
  });

  it('rejects output and events for a job that does not exist', async () => {
    const id = randomUUID();
    await expect(store.appendOutput(id, 'orphan')).rejects.toMatchObject({
      message: `no job ${id}: output must belong to an existing job`,
    });
    await expect(
      store.appendEvents(id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: new Date() }]),
    ).rejects.toMatchObject({ message: `no job ${id}: events must belong to an existing job` });
  });

  it('deletes a job together with its output and events', async () => {
    const job = newJob();
    const kept = newJob();
    await store.createJob(job);
    await store.createJob(kept);
    await store.appendOutput(job.id, 'one\n');
    await store.appendOutput(job.id, 'two\n');
    await store.appendOutput(kept.id, 'kept\n');
    await store.appendEvents(job.id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: new Date() }]);

    await store.deleteJob(job.id);
    expect(await store.findJob(job.id)).toBeUndefined();
    // Re-creating the same id proves no orphaned output or event rows were left behind.
    await store.createJob(job);
    expect(await store.readOutput(job.id)).toBe('');
    expect(await store.readOutputLines(job.id, 1, 10)).toEqual({ lines: [], from: 1, totalLines: 0, endsWithNewline: true });
    expect(await store.readEvents(job.id, { limit: 10 })).toEqual([]);
    expect(await store.readOutput(kept.id)).toBe('kept\n');

    await expect(store.deleteJob(randomUUID())).resolves.toBeUndefined();
  });

  it('finds jobs by status, oldest first', async () => {
    // A submitter of its own so rows from other scenarios in this database are told apart.
    const submittedBy = `lister-${randomUUID()}`;
    const at = (s: number) => new Date(Date.UTC(2020, 0, 1, 0, 0, s));
    const late = newJob({ submittedBy, createdAt: at(30) });
    const early = newJob({ submittedBy, createdAt: at(10) });
    const middle = newJob({ submittedBy, createdAt: at(20) });
    const done = newJob({ submittedBy, createdAt: at(5) });
    // Inserted out of order: the order must come from createdAt.
    for (const job of [late, early, middle, done]) await store.createJob(job);
    await store.claimJob(middle.id, 'runner-a', new Date());
    await store.completeJob(done.id, failed, new Date());

    const ours = (records: { submittedBy: string; id: string }[]) =>
      records.filter((r) => r.submittedBy === submittedBy).map((r) => r.id);

    expect(ours(await store.findJobsByStatus([JobStatus.Queued, JobStatus.Running]))).toEqual([
      early.id,
      middle.id,
      late.id,
    ]);
    expect(ours(await store.findJobsByStatus([JobStatus.Running]))).toEqual([middle.id]);
    expect(ours(await store.findJobsByStatus([JobStatus.Failed, JobStatus.Successful]))).toEqual([done.id]);
    expect(await store.findJobsByStatus([])).toEqual([]);

    const all = await store.findJobsByStatus([JobStatus.Queued, JobStatus.Running]);
    const times = all.map((r) => r.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('lists jobs newest first with every field, as findJob has them', async () => {
    const submittedBy = `history-${randomUUID()}`;
    const at = new Date('2029-09-09T09:09:09.909Z');
    const jobs = [
      newJob({ submittedBy, createdAt: at }),
      newJob({ submittedBy, createdAt: at, priority: 7 }),
      newJob({ submittedBy, createdAt: new Date(at.getTime() - 1) }),
    ];
    for (const job of jobs) await store.createJob(job);
    await store.claimJob(jobs[0].id, 'runner-a', at);
    await store.appendOutput(jobs[0].id, 'one\ntwo');
    await store.appendEvents(jobs[0].id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: at }]);
    await store.cancelJob(jobs[0].id, 'stop', at);

    const listed = await other.listJobs({ submittedBy }, 10);
    const sameTime = [jobs[0].id, jobs[1].id].sort().reverse();
    expect(listed.map((r) => r.id)).toEqual([...sameTime, jobs[2].id]);
    for (const record of listed) expect(record).toEqual(await store.findJob(record.id));
    expect(listed.find((r) => r.id === jobs[0].id)).toMatchObject({
      outputLines: 2,
      eventCount: 1,
      cancelRequestedAt: at,
      status: JobStatus.Running,
    });
    // Past the first of the tie, by cursor.
    const afterFirst = await store.listJobs({ submittedBy }, 10, { createdAt: at, id: sameTime[0] });
    expect(afterFirst.map((r) => r.id)).toEqual([sameTime[1], jobs[2].id]);
  });

  describe('createJob with an idempotency key', () => {
    it('returns the first job for a retry by the same user, a new one for anyone else', async () => {
      const key = `key-${randomUUID()}`;
      const first = newJob({ idempotencyKey: key, priority: 3 });
      expect(await store.createJob(first)).toEqual({ id: first.id, created: true });

      const retry = newJob({ idempotencyKey: key });
      expect(await other.createJob(retry)).toEqual({ id: first.id, created: false });
      expect(await store.findJob(retry.id)).toBeUndefined();
      expect(await store.findJob(first.id)).toMatchObject({ priority: 3, status: JobStatus.Queued });

      const bob = newJob({ submittedBy: 'bob', idempotencyKey: key });
      expect(await store.createJob(bob)).toEqual({ id: bob.id, created: true });
      // Without a key nothing is deduplicated (NULL keys never collide).
      const plain = [newJob(), newJob()];
      for (const job of plain) expect(await store.createJob(job)).toEqual({ id: job.id, created: true });
    });

    it('still refuses a second job with the same id, key or not', async () => {
      const job = newJob({ idempotencyKey: `key-${randomUUID()}` });
      await store.createJob(job);
      await expect(store.createJob({ ...job, idempotencyKey: `key-${randomUUID()}` })).rejects.toMatchObject({
        message: expect.stringMatching(/unique/i),
      });
    });

    it('creates exactly one job when retries race', async () => {
      for (let round = 0; round < 10; round++) {
        const key = `race-${randomUUID()}`;
        const attempts = Array.from({ length: 6 }, () => newJob({ idempotencyKey: key }));
        const results = await Promise.all(attempts.map((job, i) => (i % 2 ? other : store).createJob(job)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = results.find((r) => r.created)!.id;
        expect(results.every((r) => r.id === winner)).toBe(true);
      }
    });

    it("answers a retry with the first job's fingerprint, and its pending deadline until it is confirmed", async () => {
      const key = `key-${randomUUID()}`;
      const fingerprint = 'POST /api/v1/jobs/command sha256:0123';
      const pendingUntil = new Date(Date.now() + 5_000);
      const first = newJob({ idempotencyKey: key, idempotencyFingerprint: fingerprint, idempotencyPendingUntil: pendingUntil });
      expect(await store.createJob(first)).toEqual({ id: first.id, created: true });
      expect(await other.createJob(newJob({ idempotencyKey: key, idempotencyFingerprint: 'other' }))).toEqual({
        id: first.id,
        created: false,
        idempotencyFingerprint: fingerprint,
        idempotencyPendingUntil: pendingUntil,
      });
      await store.confirmIdempotencyKey(first.id);
      const retry = await other.createJob(newJob({ idempotencyKey: key }));
      expect(retry).toEqual({ id: first.id, created: false, idempotencyFingerprint: fingerprint });
    });

    it('creates a new job once the earlier one was deleted (rolled back)', async () => {
      const key = `key-${randomUUID()}`;
      const first = newJob({ idempotencyKey: key });
      await store.createJob(first);
      await store.deleteJob(first.id);
      const second = newJob({ idempotencyKey: key });
      expect(await store.createJob(second)).toEqual({ id: second.id, created: true });
    });
  });

  describe('cancelJob', () => {
    const at = new Date('2032-03-03T03:03:03.303Z');

    it('cancels a queued job at once, so it never starts', async () => {
      const job = newJob();
      await store.createJob(job);
      expect(await store.cancelJob(job.id, 'canceled by alice', at)).toBe('canceled');
      expect(await store.findJob(job.id)).toMatchObject({
        status: JobStatus.Canceled,
        reason: 'canceled by alice',
        finishedAt: at,
        startedAt: null,
        cancelRequestedAt: null,
      });
      expect(await store.claimJob(job.id, 'runner-a', new Date())).toBe(false);
      expect(await store.cancelJob(job.id, 'again', new Date())).toBe('already-final');
    });

    it('marks a running job for its runner, keeping the first request time', async () => {
      const runner = `runner-${randomUUID()}`;
      const job = newJob();
      const untouched = newJob();
      for (const j of [job, untouched]) {
        await store.createJob(j);
        await store.claimJob(j.id, runner, new Date());
      }
      expect(await store.findCancelRequests(runner)).toEqual([]);

      expect(await store.cancelJob(job.id, 'canceled by alice', at)).toBe('requested');
      expect(await other.cancelJob(job.id, 'canceled by bob', new Date(at.getTime() + 5000))).toBe('requested');
      expect(await store.findJob(job.id)).toMatchObject({
        status: JobStatus.Running,
        reason: null,
        finishedAt: null,
        cancelRequestedAt: at,
      });
      expect(await other.findCancelRequests(runner)).toEqual([job.id]);
      expect(await store.findCancelRequests(`runner-${randomUUID()}`)).toEqual([]);

      // Once the runner has stopped it, the request is answered: no longer listed.
      const canceled: JobOutcome = { status: JobStatus.Canceled, reason: 'canceled by alice', returnCode: null };
      expect(await store.completeJob(job.id, canceled, new Date())).toBe(true);
      expect(await store.findCancelRequests(runner)).toEqual([]);
      expect(await store.cancelJob(job.id, 'late', new Date())).toBe('already-final');
    });

    it('reports finished and unknown jobs', async () => {
      const job = newJob();
      await store.createJob(job);
      await store.claimJob(job.id, 'runner-a', new Date());
      await store.completeJob(job.id, successful, new Date());
      expect(await store.cancelJob(job.id, 'too late', at)).toBe('already-final');
      expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Successful, reason: null, cancelRequestedAt: null });
      expect(await store.cancelJob(randomUUID(), 'who?', at)).toBe('not-found');
    });

    it('agrees with a racing claim: either canceled before it starts or marked while it runs', async () => {
      const runner = `runner-${randomUUID()}`;
      const seen = new Set<string>();
      for (let round = 0; round < 25; round++) {
        const job = newJob();
        await store.createJob(job);
        const [canceled, claimed] = await Promise.all([
          store.cancelJob(job.id, 'canceled by alice', at),
          other.claimJob(job.id, runner, new Date()),
        ]);
        seen.add(canceled);
        const found = await store.findJob(job.id);
        if (canceled === 'canceled') {
          expect(claimed).toBe(false);
          expect(found).toMatchObject({ status: JobStatus.Canceled, runnerId: null });
        } else {
          expect(canceled).toBe('requested');
          expect(claimed).toBe(true);
          expect(found).toMatchObject({ status: JobStatus.Running, runnerId: runner, cancelRequestedAt: at });
        }
      }
      expect([...seen].every((r) => r === 'canceled' || r === 'requested')).toBe(true);
    });
  });

  describe('runner heartbeats', () => {
    const t = (s: number) => new Date(Date.UTC(2033, 0, 1, 0, 0, s));

    it('fails the running jobs of runners that stopped beating or never did, and no others', async () => {
      const alive = `alive-${randomUUID()}`;
      const stale = `stale-${randomUUID()}`;
      const gone = `gone-${randomUUID()}`;
      const unknown = `unknown-${randomUUID()}`;
      await store.recordHeartbeat(alive, t(0));
      await store.recordHeartbeat(stale, t(0));
      await store.recordHeartbeat(gone, t(0));
      // Upsert: a later beat moves the runner's time on.
      await other.recordHeartbeat(alive, t(50));
      await store.recordHeartbeat(gone, t(50));
      await store.removeRunner(gone);
      await store.removeRunner(`never-${randomUUID()}`);

      const jobOn = async (runner: string) => {
        const job = newJob();
        await store.createJob(job);
        await store.claimJob(job.id, runner, t(1));
        return job.id;
      };
      const onAlive = await jobOn(alive);
      const onStale = await jobOn(stale);
      const onGone = await jobOn(gone);
      const onUnknown = await jobOn(unknown);
      const finishedOnStale = await jobOn(stale);
      await store.completeJob(finishedOnStale, successful, t(2));
      const queued = newJob();
      await store.createJob(queued);

      const lost = await store.failJobsOfLostRunners(t(40), 'runner lost', t(60));
      expect(lost).toEqual(expect.arrayContaining([onStale, onGone, onUnknown]));
      expect(lost).not.toContain(onAlive);
      expect(lost).not.toContain(finishedOnStale);
      expect(lost).not.toContain(queued.id);

      expect(await store.findJob(onStale)).toMatchObject({ status: JobStatus.Error, reason: 'runner lost', finishedAt: t(60) });
      expect(await store.findJob(onAlive)).toMatchObject({ status: JobStatus.Running, reason: null });
      expect(await store.findJob(finishedOnStale)).toMatchObject({ status: JobStatus.Successful });
      expect(await store.findJob(queued.id)).toMatchObject({ status: JobStatus.Queued });
      // Terminal is final: a second sweep finds none of them again.
      const again = await other.failJobsOfLostRunners(t(40), 'runner lost again', t(70));
      expect(again).not.toEqual(expect.arrayContaining([onStale]));
      expect(await store.findJob(onStale)).toMatchObject({ reason: 'runner lost', finishedAt: t(60) });
    });

    it("names each job's own runner in the reason, and forgets runners long silent that no running job names", async () => {
      const silent = `silent-${randomUUID()}`;
      const holding = `holding-${randomUUID()}`;
      await store.recordHeartbeat(silent, t(0));
      await store.recordHeartbeat(holding, t(0));
      const job = newJob();
      await store.createJob(job);
      await store.claimJob(job.id, holding, t(1));
      // A job still running on it keeps a runner's row; the one with none goes.
      expect(await store.forgetSilentRunners(t(30))).toBeGreaterThanOrEqual(1);
      const [lost] = await store.failJobsOfLostRunners(t(40), 'Its runner {runner} was lost', t(60)).then((ids) => ids.filter((id) => id === job.id));
      expect(lost).toBe(job.id);
      expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Error, reason: `Its runner ${holding} was lost` });
      expect(await other.forgetSilentRunners(t(30))).toBeGreaterThanOrEqual(1);
      expect(await store.forgetSilentRunners(t(30))).toBe(0);
    });

    it('lets exactly one of a sweep and a completion win', async () => {
      for (let round = 0; round < 10; round++) {
        const job = newJob();
        await store.createJob(job);
        await store.claimJob(job.id, `vanished-${randomUUID()}`, t(1));
        const [swept, completed] = await Promise.all([
          store.failJobsOfLostRunners(t(40), 'runner lost', t(60)),
          other.completeJob(job.id, successful, t(61)),
        ]);
        expect(swept.includes(job.id)).toBe(!completed);
        expect((await store.findJob(job.id))?.status).toBe(completed ? JobStatus.Successful : JobStatus.Error);
      }
    });
  });

  describe('purgeFinishedBefore', () => {
    it('deletes finished jobs created before the date, with output and events, in batches', async () => {
      // Far in the past, so no other scenario's jobs are old enough to be purged.
      const old = (ms: number) => new Date(Date.UTC(1990, 0, 1) + ms);
      const finished: string[] = [];
      const kept: string[] = [];
      // More than one purge batch (1000).
      const ids = Array.from({ length: 1203 }, () => randomUUID());
      for (const [i, id] of ids.entries()) {
        await store.createJob(newJob({ id, createdAt: old(i) }));
        if (i % 100 === 0) {
          await store.claimJob(id, 'runner-a', old(i));
          kept.push(id); // running: never purged
        } else {
          await store.completeJob(id, i % 2 ? successful : failed, old(i));
          finished.push(id);
        }
      }
      await store.appendOutput(finished[0], 'old output\n');
      await store.appendEvents(finished[0], [{ type: 'play_start', host: null, task: null, data: {}, createdAt: old(0) }]);
      const newer = newJob({ createdAt: old(10_000_000) });
      await store.createJob(newer);
      await store.completeJob(newer.id, successful, old(10_000_000));

      expect(await store.purgeFinishedBefore(old(5_000_000))).toBe(finished.length);
      for (const id of [finished[0], finished[finished.length - 1]]) expect(await store.findJob(id)).toBeUndefined();
      for (const id of kept) expect(await store.findJob(id)).toMatchObject({ status: JobStatus.Running });
      expect(await store.findJob(newer.id)).toMatchObject({ status: JobStatus.Successful });
      // The cascade took output and events: re-creating the id shows none.
      await store.createJob(newJob({ id: finished[0], createdAt: old(0) }));
      expect(await store.readOutput(finished[0])).toBe('');
      expect(await store.readEvents(finished[0], { limit: 10 })).toEqual([]);
      expect(await store.purgeFinishedBefore(old(5_000_000))).toBe(0);
      await store.deleteJob(finished[0]);
    });
  });

  it('treats migrate() on a migrated database as a no-op that keeps the data', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.appendOutput(job.id, 'kept');
    await store.migrate();
    await other.migrate();
    const again = createJobStore(location.config);
    try {
      await again.migrate();
      expect(await again.findJob(job.id)).toMatchObject({ id: job.id, status: JobStatus.Queued });
      expect(await again.readOutput(job.id)).toBe('kept');
    } finally {
      await again.close();
    }
  });

  it('can be closed more than once', async () => {
    const spare = createJobStore(location.config);
    await spare.migrate();
    await spare.close();
    await expect(spare.close()).resolves.toBeUndefined();
    await expect(spare.findJob('x')).rejects.toMatchObject({ message: expect.stringMatching(/destroyed/i) });
  });
});

describe.each(STORE_BACKENDS)('migrate() on a fresh $name database', (backend) => {
  let location: StoreLocation;
  afterEach(async () => location?.dispose());

  it('lets two concurrent migrations on one store both succeed', async () => {
    location = await backend.fresh();
    const store = createJobStore(location.config);
    try {
      await Promise.all([store.migrate(), store.migrate()]);
      const job = newJob();
      await store.createJob(job);
      expect(await store.claimJob(job.id, 'runner-a', new Date())).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('migrate() on a fresh PostgreSQL database from several processes', () => {
  let location: StoreLocation;
  afterAll(async () => location?.dispose());

  it('lets concurrent migrations from separate connection pools all succeed', async () => {
    location = await STORE_BACKENDS.find((b) => b.name === 'PostgreSQL')!.fresh();
    // Separate pools stand in for separate gateway and runner processes starting together.
    const stores = Array.from({ length: 4 }, () => createJobStore(location.config));
    try {
      const results = await Promise.allSettled(stores.map((s) => s.migrate()));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      const job = newJob();
      await stores[0].createJob(job);
      await stores[3].appendOutput(job.id, 'ok');
      expect(await stores[1].readOutput(job.id)).toBe('ok');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe.each(STORE_BACKENDS)('claimNextJob on $name: the message is a wake-up, the store picks fairly', (backend) => {
  let store: JobStore;
  let other: JobStore;
  withMigratedStores(backend, (opened) => ({ store, other } = opened));

  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

  it('gives a free slot to the user with the fewest running jobs, then the preferred job, priority and age', async () => {
    const hog = Array.from({ length: 5 }, (_, i) => newJob({ submittedBy: 'hog', createdAt: at(i) }));
    for (const job of hog) await store.createJob(job);
    const first = await store.claimNextJob('runner-a', new Date());
    expect(first).toMatchObject({ id: hog[0].id, status: 'running', runnerId: 'runner-a', spec: hog[0].spec });
    // Another user's job, queued behind the hog's backlog, comes next.
    const ping = newJob({ submittedBy: 'alice', createdAt: at(10) });
    await store.createJob(ping);
    expect((await store.claimNextJob('runner-a', new Date(), hog[3].id))?.id).toBe(ping.id);
    // Both users have one running job: the preferred job wins the tie, then the older one.
    expect((await store.claimNextJob('runner-b', new Date(), hog[3].id))?.id).toBe(hog[3].id);
    const urgent = newJob({ submittedBy: 'hog', createdAt: at(20), priority: 9 });
    await store.createJob(urgent);
    expect((await store.claimNextJob('runner-b', new Date()))?.id).toBe(urgent.id);
    expect((await store.claimNextJob('runner-b', new Date()))?.id).toBe(hog[1].id);
  });

  it('never hands one job to two runners, and answers null when nothing is queued', async () => {
    const jobs = Array.from({ length: 6 }, () => newJob({ submittedBy: 'racer' }));
    for (const job of jobs) await store.createJob(job);
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).claimNextJob(`runner-${i}`, new Date())));
    const ids = claims.filter((c) => c !== null).map((c) => c!.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The earlier test's two hog jobs are still queued: they are claimed too, each once.
    expect(ids.filter((id) => jobs.some((j) => j.id === id)).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(ids).toHaveLength(8);
    expect(await store.claimNextJob('runner-x', new Date())).toBeNull();
  });

  it('keeps the reason of a running job cancel request beside it, not as the job reason', async () => {
    const job = newJob({ submittedBy: 'carol' });
    await store.createJob(job);
    await store.claimJob(job.id, 'runner-c', new Date());
    expect(await store.cancelJob(job.id, 'Canceled by carol', new Date())).toBe('requested');
    expect(await other.cancelJob(job.id, 'Canceled by dave', new Date())).toBe('requested');
    expect(await store.findJob(job.id)).toMatchObject({ status: 'running', reason: null, cancelReason: 'Canceled by carol' });
  });
});

describe('claimNextJob on PostgreSQL while a gateway holds the job row for a moment', () => {
  let store: JobStore;
  let location: StoreLocation;
  withMigratedStores(STORE_BACKENDS.find((b) => b.name === 'PostgreSQL')!, (opened) => ({ store, location } = opened));

  it('claims the job of the message in hand once the row is free, instead of skipping it and leaving it queued', async () => {
    const job = newJob({ submittedBy: 'locked', idempotencyKey: `key-${randomUUID()}`, idempotencyPendingUntil: new Date(Date.now() + 5_000) });
    await store.createJob(job);
    // What confirmIdempotencyKey does right after the publish, while the runner already has the message.
    const gateway = new Client({ connectionString: location.config.databaseUrl as string });
    await gateway.connect();
    try {
      await gateway.query('BEGIN');
      await gateway.query('UPDATE jobs SET idempotency_pending_until = NULL WHERE id = $1', [job.id]);
      const claim = store.claimNextJob('runner-l', new Date(), job.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await gateway.query('COMMIT');
      expect(await claim).toMatchObject({ id: job.id, status: JobStatus.Running, runnerId: 'runner-l' });
    } finally {
      await gateway.end();
    }
  });
});
