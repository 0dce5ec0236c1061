import { JobKind, JobOutcome, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { createJobStore, openStoreDatabase } from '../create-job-store';
import { JobRecord } from '../job-records';
import { JobStore } from '../job-store';
import { migrateTo, StoreMigrationName } from '../store-migrations';
import { commandSpec, failed, gitSpec, newJob, oldSchemaJobRow, successful } from '../testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from '../testing/store-backends';

/** JobRepository: create, find, count, claim and complete, and the fair claim of the next job. */
export function describeJobRepository(backend: StoreBackend): void {
  describe(`KyselyJobStore on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

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
        relaunchOf: null,
        launchPath: null,
        outputLines: 0,
        eventCount: 0,
      });
      expect(found?.createdAt).toBeInstanceOf(Date);

      const git = newJob({ spec: gitSpec, priority: 9 });
      await store.createJob(git);
      expect(await store.findJob(git.id)).toMatchObject({ kind: JobKind.Git, inventory: null, spec: gitSpec, priority: 9, requestId: null });
    });

    it('keeps the job a relaunch repeats, and still finds the relaunch once the original is purged', async () => {
      const original = newJob({ createdAt: new Date(Date.now() - 3_600_000) });
      const relaunch = newJob({ relaunchOf: original.id });
      await store.createJob(original);
      await store.createJob(relaunch);
      expect(await other.findJob(relaunch.id)).toMatchObject({ relaunchOf: original.id });
      expect(await other.findJob(original.id)).toMatchObject({ relaunchOf: null });
      await store.claimJob(original.id, 'runner-1', new Date());
      await store.completeJob(original.id, failed, new Date());
      await store.purgeFinishedBefore(new Date(Date.now() - 60_000));
      expect(await other.findJob(original.id)).toBeUndefined();
      expect(await other.findJob(relaunch.id)).toMatchObject({ relaunchOf: original.id });
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

    it('records how the job’s Ansible started with its outcome (warm or cold), and nothing when the outcome says nothing', async () => {
      const [warm, cold, none] = [newJob(), newJob(), newJob()];
      for (const job of [warm, cold, none]) await store.createJob(job);
      await store.completeJob(warm.id, { ...failed, launchPath: 'warm' }, new Date());
      await store.completeJob(cold.id, { ...failed, launchPath: 'cold' }, new Date());
      await store.completeJob(none.id, failed, new Date());
      expect((await other.findJob(warm.id))?.launchPath).toBe('warm');
      expect((await other.findJob(cold.id))?.launchPath).toBe('cold');
      expect((await other.findJob(none.id))?.launchPath).toBeNull();
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
  });

  describe(`claimNextJob on ${backend.name}: the message is a wake-up, the store picks fairly`, () => {
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

  describe.each<[StoreMigrationName, StoreMigrationName, string, Partial<JobRecord>]>([
    ['0010_relaunch_of', '0007_request_id', 'as no relaunch', { relaunchOf: null }],
    ['0011_launch_path', '0010_relaunch_of', 'as of no known launch path', { launchPath: null, relaunchOf: null }],
  ])(`migration %s on ${backend.name}`, (migration, previous, as, fields) => {
    let location: StoreLocation;
    afterAll(async () => location?.dispose());

    it(`reads the jobs stored before it ${as}, and goes down and up again`, async () => {
      location = await backend.fresh();
      const before = newJob();
      const { db, dialect } = openStoreDatabase(location.config);
      try {
        await migrateTo(db, dialect, '0007_request_id');
        await db.insertInto('jobs').values(oldSchemaJobRow(before)).execute();
        await migrateTo(db, dialect, migration);
        await migrateTo(db, dialect, previous);
      } finally {
        await db.destroy();
      }
      const store = createJobStore(location.config);
      try {
        await store.migrate();
        expect(await store.findJob(before.id)).toMatchObject({ ...fields, spec: before.spec });
      } finally {
        await store.close();
      }
    });
  });
}
