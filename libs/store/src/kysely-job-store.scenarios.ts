import { JobStatus } from '@flansible/contracts';
import { createJobStore } from './create-job-store';
import { JobStore } from './job-store';
import { newJob } from './testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from './testing/store-backends';

/** The store as a whole: migrations, closing, ping. */
export function describeKyselyJobStore(backend: StoreBackend): void {
  describe(`KyselyJobStore on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    let location: StoreLocation;
    withMigratedStores(backend, (opened) => ({ store, other, location } = opened));

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

  describe(`migrate() on a fresh ${backend.name} database`, () => {
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

  // What readiness asks of the store: a trivial query, answered or refused, never a hang on a closed store.
  describe(`JobStore.ping on ${backend.name}`, () => {
    it('resolves while the database answers and rejects once the store is closed', async () => {
      const location = await backend.fresh();
      const store = createJobStore(location.config);
      try {
        await store.migrate();
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toThrow();
      } finally {
        await store.close();
        await location.dispose();
      }
    });
  });
}
