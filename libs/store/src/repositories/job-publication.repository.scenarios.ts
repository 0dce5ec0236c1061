import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { createJobStore, openStoreDatabase } from '../create-job-store';
import { JobStore } from '../job-store';
import { migrateTo } from '../store-migrations';
import { newJob, oldSchemaJobRow } from '../testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from '../testing/store-backends';

const t = (s: number) => new Date(Date.UTC(2034, 0, 1, 0, 0, s));

/** JobPublicationRepository: the outbox flag, and migration 0005 that introduced it. */
export function describeJobOutbox(backend: StoreBackend): void {
  describe(`the job outbox on ${backend.name}`, () => {
    let store: JobStore;
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

    it('lists queued jobs no broker confirmed, created before the deadline, oldest first, until marked published', async () => {
      const older = newJob({ createdAt: t(1) });
      const old = newJob({ createdAt: t(2) });
      const recent = newJob({ createdAt: t(30) });
      const published = newJob({ createdAt: t(1) });
      for (const job of [recent, old, older, published]) await store.createJob(job);
      await store.markPublished(published.id, t(3));

      const ids = async (limit = 100) => (await other.findUnpublishedJobs(t(10), limit)).map((j) => j.id);
      expect(await ids()).toEqual([older.id, old.id]);
      expect(await ids(1)).toEqual([older.id]);
      expect((await other.findUnpublishedJobs(t(10), 1))[0]).toMatchObject({ id: older.id, status: JobStatus.Queued, spec: older.spec });

      // Idempotent, and any process may mark (several gateways republish the same orphan).
      await other.markPublished(older.id, t(11));
      await store.markPublished(older.id, t(12));
      expect(await ids()).toEqual([old.id]);
    });

    it('leaves out unpublished jobs that are no longer queued (claimed through another wake-up, or canceled)', async () => {
      const claimed = newJob({ createdAt: t(4) });
      const canceled = newJob({ createdAt: t(4) });
      for (const job of [claimed, canceled]) await store.createJob(job);
      expect(await store.claimJob(claimed.id, 'runner-a', t(5))).toBe(true);
      expect(await store.cancelJob(canceled.id, 'Canceled by alice', t(5))).toBe('canceled');
      const ids = (await store.findUnpublishedJobs(t(10), 100)).map((j) => j.id);
      expect(ids).not.toContain(claimed.id);
      expect(ids).not.toContain(canceled.id);
    });

    it("lists the jobs running on one runner, and only that runner's running ones", async () => {
      const runner = `runner-${randomUUID()}`;
      const [mine, finished, elsewhere, queued] = [newJob(), newJob(), newJob(), newJob()];
      for (const job of [mine, finished, elsewhere, queued]) await store.createJob(job);
      await store.claimJob(mine.id, runner, t(1));
      await store.claimJob(finished.id, runner, t(1));
      await store.completeJob(finished.id, { status: JobStatus.Successful, reason: null, returnCode: 0 }, t(2));
      await store.claimJob(elsewhere.id, `runner-${randomUUID()}`, t(1));
      expect(await other.findJobsRunningOn(runner)).toEqual([mine.id]);
    });
  });

  describe(`migration 0005_job_outbox on ${backend.name}`, () => {
    let location: StoreLocation;
    afterAll(async () => location?.dispose());

    it('counts the jobs stored before it as published, and new ones as unpublished', async () => {
      location = await backend.fresh();
      const before = newJob({ createdAt: t(1) });
      const { db, dialect } = openStoreDatabase(location.config);
      const store = createJobStore(location.config);
      try {
        await migrateTo(db, dialect, '0004_cancel_reason');
        // A row as the code of that schema wrote it (today's createJob writes later columns too).
        await db.insertInto('jobs').values(oldSchemaJobRow(before, { priority: 0 })).execute();
      } finally {
        await db.destroy();
      }
      try {
        await store.migrate();
        const after = newJob({ createdAt: t(2) });
        await store.createJob(after);
        expect((await store.findUnpublishedJobs(t(10), 100)).map((j) => j.id)).toEqual([after.id]);
      } finally {
        await store.close();
      }
    });
  });
}
