import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { newJob } from '../testing/job-fixtures';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

/** JobRepository.create with idempotency keys: retries, races, fingerprints, rollbacks. */
export function describeJobIdempotency(backend: StoreBackend): void {
  describe(`createJob with an idempotency key on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

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
}
