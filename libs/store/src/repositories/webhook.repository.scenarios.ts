import { JobStatus, WebhookEventType } from '@flansible/contracts';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { openStoreDatabase } from '../create-job-store';
import { JobStore } from '../job-store';
import { newJob, successful } from '../testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from '../testing/store-backends';
import { NewWebhook, WebhookDelivery } from '../webhook-records';

const t = (s: number) => new Date(Date.UTC(2034, 0, 1, 0, 0, s));
const { JobStarted: STARTED, JobFinished: FINISHED } = WebhookEventType;
const LEASE_MS = 60_000;
/** A lease that outlives the spec: what claimAll took never comes back in a later claimAll. */
const FOR_GOOD_MS = 1e12;

export function newWebhook(overrides: Partial<NewWebhook> = {}): NewWebhook {
  return {
    id: randomUUID(),
    owner: 'alice',
    url: 'https://hooks.example.com/flansible',
    secret: `whsec_${Buffer.from(randomUUID()).toString('base64')}`,
    events: [STARTED, FINISHED],
    createdAt: t(0),
    ...overrides,
  };
}

/** Makes every INSERT into webhook_deliveries fail (a trigger) while `run` runs, on either engine. */
async function withFailingDeliveryInserts(location: StoreLocation, run: () => Promise<void>): Promise<void> {
  const { db, dialect } = openStoreDatabase(location.config);
  const [create, drop] =
    dialect === 'sqlite'
      ? [[sql`CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'deliveries refused'); END`], [sql`DROP TRIGGER refuse_deliveries`]]
      : [
          [
            sql`CREATE FUNCTION refuse_deliveries() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'deliveries refused'; END $$ LANGUAGE plpgsql`,
            sql`CREATE TRIGGER refuse_deliveries BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION refuse_deliveries()`,
          ],
          [sql`DROP TRIGGER refuse_deliveries ON webhook_deliveries`, sql`DROP FUNCTION refuse_deliveries()`],
        ];
  try {
    for (const statement of create) await statement.execute(db);
    await run();
  } finally {
    for (const statement of drop) await statement.execute(db);
    await db.destroy();
  }
}

/** What a claim at `at` hands over, as [job, event, subscription] for comparing. */
const shapes = (deliveries: WebhookDelivery[]) => deliveries.map((d) => [d.jobId, d.eventType, d.subscriptionId]);

/**
 * WebhookSubscriptionRepository, WebhookDeliveryRepository, and the deliveries the triggers of
 * migration 0009 write in the statement of every start and end of a job. Each test removes its
 * subscriptions (and with them their deliveries), so claims see only the test's own.
 */
export function describeWebhookStore(backend: StoreBackend): void {
  describe(`webhooks in the store on ${backend.name}`, () => {
    let store: JobStore;
    let other: JobStore;
    let location: StoreLocation;
    withMigratedStores(backend, (opened) => ({ store, other, location } = opened));
    afterEach(async () => {
      for (const webhook of await store.listWebhooks()) await store.deleteWebhook(webhook.id);
    });

    const subscribe = async (overrides: Partial<NewWebhook> = {}) => {
      const webhook = newWebhook(overrides);
      expect(await store.createWebhook(webhook, 25)).toBe(true);
      return webhook;
    };
    const claimAll = (at = t(1000), from: JobStore = store) => from.claimWebhookDeliveries(at, FOR_GOOD_MS, randomUUID(), 1000);

    it('keeps subscriptions with their events, lists them per owner or all, and deletes them', async () => {
      const a = await subscribe({ events: [FINISHED], createdAt: t(1) });
      const b = await subscribe({ owner: 'bob', createdAt: t(2) });
      expect(await other.findWebhook(a.id)).toEqual(a);
      expect((await other.listWebhooks('alice')).map((w) => w.id)).toEqual([a.id]);
      expect(await other.listWebhooks()).toEqual([a, b]);
      expect(await other.deleteWebhook(a.id)).toBe(true);
      expect(await other.deleteWebhook(a.id)).toBe(false);
      expect(await other.findWebhook(a.id)).toBeUndefined();
    });

    it("refuses an owner's subscription beyond the limit and stores nothing of it", async () => {
      await subscribe();
      await subscribe();
      const third = newWebhook();
      expect(await store.createWebhook(third, 2)).toBe(false);
      expect(await store.findWebhook(third.id)).toBeUndefined();
      // Another owner's count is their own.
      expect(await store.createWebhook(newWebhook({ owner: 'bob' }), 2)).toBe(true);
    });

    it('writes a delivery per subscriber when a job starts and when it finishes, and none for a change that did not happen', async () => {
      const both = await subscribe();
      const finishedOnly = await subscribe({ owner: 'bob', events: [FINISHED] });
      const job = newJob();
      await store.createJob(job);
      expect(await claimAll()).toEqual([]);

      expect(await other.claimJob(job.id, 'runner-a', t(10))).toBe(true);
      expect(await other.claimJob(job.id, 'runner-b', t(11))).toBe(false);
      const started = await claimAll(t(1000));
      expect(shapes(started)).toEqual([[job.id, STARTED, both.id]]);
      expect(started[0]).toMatchObject({ occurredAt: t(10), attempts: 0, payload: null });

      expect(await other.completeJob(job.id, successful, t(20))).toBe(true);
      expect(await other.completeJob(job.id, successful, t(21))).toBe(false);
      const finished = await claimAll(t(1000));
      expect(shapes(finished).sort()).toEqual([[job.id, FINISHED, both.id], [job.id, FINISHED, finishedOnly.id]].sort());
      expect(finished.every((d) => d.occurredAt.getTime() === t(20).getTime())).toBe(true);
    });

    it('writes job.started for the fair claim, and job.finished for a canceled queued job and for the jobs of a lost runner', async () => {
      const webhook = await subscribe();
      const [picked, canceled, lost] = [newJob({ createdAt: t(1) }), newJob({ createdAt: t(2) }), newJob({ createdAt: t(3) })];
      for (const job of [picked, canceled, lost]) await store.createJob(job);
      expect((await other.claimNextJob('runner-a', t(10), picked.id))?.id).toBe(picked.id);
      expect(await store.cancelJob(canceled.id, 'Canceled by alice', t(11))).toBe('canceled');
      const runner = `runner-${randomUUID()}`;
      await other.recordHeartbeat(runner, t(5));
      expect(await other.claimJob(lost.id, runner, t(12))).toBe(true);
      expect(await other.failJobsOfLostRunners(t(100), 'Its runner {runner} was lost', t(101))).toEqual(expect.arrayContaining([lost.id]));
      // Also settles runner-a's job (it never beat): one more job.finished.
      const claimed = shapes(await claimAll());
      expect(claimed).toEqual(
        expect.arrayContaining([
          [picked.id, STARTED, webhook.id],
          [canceled.id, FINISHED, webhook.id],
          [lost.id, STARTED, webhook.id],
          [lost.id, FINISHED, webhook.id],
        ]),
      );
      expect(claimed.filter(([id]) => id === canceled.id)).toHaveLength(1); // a queued job never started
      // A cancel request for a running job changes no status: no event.
      const running = newJob();
      await store.createJob(running);
      await other.claimJob(running.id, 'runner-a', t(200));
      await claimAll(t(1000));
      expect(await store.cancelJob(running.id, 'Canceled by alice', t(201))).toBe('requested');
      expect(await claimAll(t(2000))).toEqual([]);
    });

    it('changes no status whose deliveries could not be written: both or neither', async () => {
      await subscribe();
      const [queued, running] = [newJob(), newJob()];
      for (const job of [queued, running]) await store.createJob(job);
      await store.claimJob(running.id, 'runner-a', t(10));
      await claimAll();
      await withFailingDeliveryInserts(location, async () => {
        // Matched by message: better-sqlite3 keeps the error class of the first spec file that loaded it,
        // which is no Error of a later file's realm (toThrow would say nothing was thrown).
        const refused = { message: expect.stringMatching(/deliveries refused/) };
        await expect(store.claimJob(queued.id, 'runner-a', t(20))).rejects.toMatchObject(refused);
        await expect(store.completeJob(running.id, successful, t(20))).rejects.toMatchObject(refused);
        await expect(store.cancelJob(queued.id, 'Canceled by alice', t(20))).rejects.toMatchObject(refused);
      });
      expect(await store.findJob(queued.id)).toMatchObject({ status: JobStatus.Queued });
      expect(await store.findJob(running.id)).toMatchObject({ status: JobStatus.Running, finishedAt: null });
      // Once they can be written, the same changes go through with their events (the runner retries an outcome).
      expect(await store.completeJob(running.id, successful, t(30))).toBe(true);
      expect(shapes(await claimAll()).map(([id, event]) => [id, event])).toEqual([[running.id, FINISHED]]);
    });

    it('gives a subscription only the events after it was made, and a deleted one none', async () => {
      const job = newJob();
      await store.createJob(job);
      await store.claimJob(job.id, 'runner-a', t(10));
      const later = await subscribe();
      const gone = await subscribe();
      await store.deleteWebhook(gone.id);
      await store.completeJob(job.id, successful, t(20));
      expect(shapes(await claimAll())).toEqual([[job.id, FINISHED, later.id]]);
    });

    it('leases a claimed delivery: no claim sees it again until the lease has run out, then any does', async () => {
      const webhook = await subscribe({ events: [STARTED] });
      const jobs = [newJob(), newJob(), newJob()];
      for (const [i, job] of jobs.entries()) {
        await store.createJob(job);
        await store.claimJob(job.id, 'runner-a', t(10 + i));
      }
      // Not due before it happened; oldest first; at most `limit`.
      expect(await store.claimWebhookDeliveries(t(9), LEASE_MS, 'early', 10)).toEqual([]);
      const first = await store.claimWebhookDeliveries(t(100), LEASE_MS, 'lease-1', 2);
      expect(first.map((d) => d.jobId)).toEqual([jobs[0].id, jobs[1].id]);
      const second = await other.claimWebhookDeliveries(t(100), LEASE_MS, 'lease-2', 10);
      expect(second.map((d) => d.jobId)).toEqual([jobs[2].id]);
      expect(await other.claimWebhookDeliveries(t(159), LEASE_MS, 'lease-3', 10)).toEqual([]);
      // The dispatcher holding lease-1 died: its deliveries come back once the lease has run out.
      const expired = await other.claimWebhookDeliveries(t(161), LEASE_MS, 'lease-4', 10);
      expect(expired.map((d) => d.jobId)).toEqual([jobs[0].id, jobs[1].id, jobs[2].id]);
      expect(expired.every((d) => d.subscriptionId === webhook.id)).toBe(true);
      // Every later update is the new holder's alone.
      const attempt = { attemptedAt: t(162), durationMs: 5, statusCode: 200, error: null };
      expect(await store.recordWebhookAttempt(first[0].id, 'lease-1', attempt, { settled: 'delivered' })).toBe(false);
      expect(await other.listWebhookAttempts(webhook.id, 10)).toEqual([]);
    });

    it('never hands one delivery to two claims made at the same moment', async () => {
      await subscribe({ events: [STARTED] });
      for (let i = 0; i < 20; i++) {
        const job = newJob();
        await store.createJob(job);
        await store.claimJob(job.id, 'runner-a', t(10));
      }
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).claimWebhookDeliveries(t(100), LEASE_MS, `lease-${i}`, 3)),
      );
      const ids = claims.flat().map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(20);
    });

    it('retries a failed attempt at its time with the same payload, records every attempt, and never claims a settled delivery', async () => {
      const webhook = await subscribe({ events: [FINISHED] });
      const job = newJob();
      await store.createJob(job);
      await store.completeJob(job.id, successful, t(10));
      const [delivery] = await store.claimWebhookDeliveries(t(10), LEASE_MS, 'lease-1', 10);
      await store.saveWebhookPayload(delivery.id, 'lease-1', '{"type":"job.finished"}');
      await store.saveWebhookPayload(delivery.id, 'not-mine', '{"forged":true}');
      const failedAttempt = { attemptedAt: t(11), durationMs: 12.6, statusCode: 500, error: 'HTTP 500' };
      expect(await store.recordWebhookAttempt(delivery.id, 'lease-1', failedAttempt, { retryAt: t(30) })).toBe(true);

      expect(await other.claimWebhookDeliveries(t(29), LEASE_MS, 'lease-2', 10)).toEqual([]);
      const [retry] = await other.claimWebhookDeliveries(t(30), LEASE_MS, 'lease-2', 10);
      expect(retry).toMatchObject({ id: delivery.id, attempts: 1, payload: '{"type":"job.finished"}' });
      const timeout = { attemptedAt: t(31), durationMs: 10_000, statusCode: null, error: 'no answer within 10 s' };
      expect(await other.recordWebhookAttempt(retry.id, 'lease-2', timeout, { retryAt: t(40) })).toBe(true);
      const [third] = await store.claimWebhookDeliveries(t(40), LEASE_MS, 'lease-3', 10);
      const ok = { attemptedAt: t(41), durationMs: 3, statusCode: 204, error: null };
      expect(await store.recordWebhookAttempt(third.id, 'lease-3', ok, { settled: 'delivered' })).toBe(true);
      expect(await store.claimWebhookDeliveries(t(100_000), LEASE_MS, 'lease-4', 10)).toEqual([]);

      expect(await other.listWebhookAttempts(webhook.id, 10)).toEqual([
        { subscriptionId: webhook.id, jobId: job.id, eventType: FINISHED, attempt: 3, attemptedAt: t(41), durationMs: 3, statusCode: 204, error: null },
        { subscriptionId: webhook.id, jobId: job.id, eventType: FINISHED, attempt: 2, attemptedAt: t(31), durationMs: 10_000, statusCode: null, error: 'no answer within 10 s' },
        { subscriptionId: webhook.id, jobId: job.id, eventType: FINISHED, attempt: 1, attemptedAt: t(11), durationMs: 13, statusCode: 500, error: 'HTTP 500' },
      ]);
      expect((await other.listWebhookAttempts(webhook.id, 1)).map((a) => a.attempt)).toEqual([3]);
    });

    it('settles a skipped or given-up delivery for good, and hands a released one back at once', async () => {
      await subscribe({ events: [FINISHED] });
      const [skipped, givenUp, released] = [newJob(), newJob(), newJob()];
      for (const job of [skipped, givenUp, released]) {
        await store.createJob(job);
        await store.completeJob(job.id, successful, t(10));
      }
      const claimed = await store.claimWebhookDeliveries(t(10), LEASE_MS, 'lease-1', 10);
      const byJob = (id: string) => claimed.find((d) => d.jobId === id)!.id;
      await store.skipWebhookDelivery(byJob(skipped.id), 'lease-1');
      const refused = { attemptedAt: t(11), durationMs: 1, statusCode: null, error: 'connection refused' };
      await store.recordWebhookAttempt(byJob(givenUp.id), 'lease-1', refused, { settled: 'failed' });
      await store.releaseWebhookDeliveries([byJob(released.id)], 'lease-1', t(12));
      expect((await other.claimWebhookDeliveries(t(12), FOR_GOOD_MS, 'lease-2', 10)).map((d) => d.jobId)).toEqual([released.id]);
      expect(await other.claimWebhookDeliveries(t(100_000), LEASE_MS, 'lease-3', 10)).toEqual([]);
    });

    it('removes the deliveries and attempts of a deleted subscription, and of a purged job', async () => {
      const kept = await subscribe({ events: [FINISHED] });
      const deleted = await subscribe({ events: [FINISHED] });
      const [old, recent] = [newJob({ createdAt: t(1) }), newJob({ createdAt: t(500) })];
      for (const job of [old, recent]) {
        await store.createJob(job);
        await store.completeJob(job.id, successful, t(600));
      }
      for (const delivery of await store.claimWebhookDeliveries(t(600), LEASE_MS, 'lease-1', 10)) {
        await store.recordWebhookAttempt(delivery.id, 'lease-1', { attemptedAt: t(601), durationMs: 1, statusCode: 503, error: 'HTTP 503' }, { retryAt: t(700) });
      }
      await store.deleteWebhook(deleted.id);
      expect(await store.listWebhookAttempts(deleted.id, 10)).toEqual([]);
      expect(await store.purgeFinishedBefore(t(100))).toBeGreaterThanOrEqual(1); // the earlier specs' jobs too
      expect(await store.findJob(old.id)).toBeUndefined();
      expect((await store.listWebhookAttempts(kept.id, 10)).map((a) => a.jobId)).toEqual([recent.id]);
      expect((await store.claimWebhookDeliveries(t(700), LEASE_MS, 'lease-2', 10)).map((d) => [d.jobId, d.subscriptionId])).toEqual([[recent.id, kept.id]]);
      expect(await store.findJob(recent.id)).toMatchObject({ status: JobStatus.Successful });
    });
  });
}
