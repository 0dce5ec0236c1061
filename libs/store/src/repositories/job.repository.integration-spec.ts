import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { JobStore } from '../job-store';
import { newJob } from '../testing/job-fixtures';
import { POSTGRES_BACKEND, StoreLocation, withMigratedStores } from '../testing/store-backends';
import { describeJobRepository } from './job.repository.scenarios';
import { describeJobIdempotency } from './job-idempotency.scenarios';
import { describeJobCancel } from './job-cancel.scenarios';

jest.setTimeout(30_000);

describeJobRepository(POSTGRES_BACKEND);
describeJobIdempotency(POSTGRES_BACKEND);
describeJobCancel(POSTGRES_BACKEND);

describe('claimNextJob on PostgreSQL while a gateway holds the job row for a moment', () => {
  let store: JobStore;
  let location: StoreLocation;
  withMigratedStores(POSTGRES_BACKEND, (opened) => ({ store, location } = opened));

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
