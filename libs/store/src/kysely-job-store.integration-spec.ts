import { createJobStore } from './create-job-store';
import { newJob } from './testing/job-fixtures';
import { POSTGRES_BACKEND, StoreLocation } from './testing/store-backends';
import { describeKyselyJobStore } from './kysely-job-store.scenarios';

jest.setTimeout(30_000);

describeKyselyJobStore(POSTGRES_BACKEND);

describe('migrate() on a fresh PostgreSQL database from several processes', () => {
  let location: StoreLocation;
  afterAll(async () => location?.dispose());

  it('lets concurrent migrations from separate connection pools all succeed', async () => {
    location = await POSTGRES_BACKEND.fresh();
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
