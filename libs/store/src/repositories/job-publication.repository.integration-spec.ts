import { JobStatus } from '@flansible/contracts';
import { Client } from 'pg';
import { JobStore } from '../job-store';
import { newJob } from '../testing/job-fixtures';
import { POSTGRES_BACKEND, StoreLocation, withMigratedStores } from '../testing/store-backends';
import { describeJobOutbox } from './job-publication.repository.scenarios';

jest.setTimeout(30_000);

describeJobOutbox(POSTGRES_BACKEND);

describe('marking a job published on PostgreSQL, while a runner claims it', () => {
  let store: JobStore;
  let location: StoreLocation;
  withMigratedStores(POSTGRES_BACKEND, (opened) => ({ store, location } = opened));

  it('neither holds up nor makes the claim skip the job (the message reaches a runner as the gateway marks it)', async () => {
    const job = newJob();
    await store.createJob(job);
    // A gateway's mark, not yet committed: its transaction keeps what it locked on the job row.
    const gateway = new Client({ connectionString: location.config.databaseUrl! });
    await gateway.connect();
    try {
      await gateway.query('BEGIN');
      await gateway.query('INSERT INTO job_publications (job_id, published_at) VALUES ($1, $2)', [job.id, Date.now()]);
      const claimed = await store.claimNextJob('runner-a', new Date(), job.id);
      expect(claimed?.id).toBe(job.id);
      await gateway.query('COMMIT');
    } finally {
      await gateway.end();
    }
    expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Running, runnerId: 'runner-a' });
  });
});
