import { WebhookEventType } from '@flansible/contracts';
import { Client } from 'pg';
import { JobStore } from '../job-store';
import { newJob, successful } from '../testing/job-fixtures';
import { POSTGRES_BACKEND, StoreLocation, withMigratedStores } from '../testing/store-backends';
import { describeWebhookStore, newWebhook } from './webhook.repository.scenarios';

jest.setTimeout(30_000);

describeWebhookStore(POSTGRES_BACKEND);

describe('claiming webhook deliveries on PostgreSQL while another gateway holds some', () => {
  let store: JobStore;
  let location: StoreLocation;
  withMigratedStores(POSTGRES_BACKEND, (opened) => ({ store, location } = opened));

  it('skips the rows another claim has locked instead of waiting for them (FOR UPDATE SKIP LOCKED)', async () => {
    await store.createWebhook(newWebhook({ events: [WebhookEventType.JobFinished] }), 25);
    const jobs = [newJob(), newJob()];
    for (const job of jobs) {
      await store.createJob(job);
      await store.completeJob(job.id, successful, new Date(Date.now() - 1000));
    }
    // Another gateway's claim, not yet committed, holding the first delivery.
    const gateway = new Client({ connectionString: location.config.databaseUrl! });
    await gateway.connect();
    try {
      await gateway.query('BEGIN');
      await gateway.query('SELECT id FROM webhook_deliveries WHERE job_id = $1 FOR UPDATE', [jobs[0].id]);
      const started = Date.now();
      const claimed = await store.claimWebhookDeliveries(new Date(), 60_000, 'lease-1', 10);
      expect(claimed.map((d) => d.jobId)).toEqual([jobs[1].id]);
      expect(Date.now() - started).toBeLessThan(2000);
      await gateway.query('ROLLBACK');
    } finally {
      await gateway.end();
    }
    expect((await store.claimWebhookDeliveries(new Date(), 60_000, 'lease-2', 10)).map((d) => d.jobId)).toEqual([jobs[0].id]);
  });
});
