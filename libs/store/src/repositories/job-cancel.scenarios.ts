import { JobOutcome, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { newJob, successful } from '../testing/job-fixtures';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

/** JobRepository.cancel: queued jobs at once, running ones by request, races with claims. */
export function describeJobCancel(backend: StoreBackend): void {
  describe(`cancelJob on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

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
}
