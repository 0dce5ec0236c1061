import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { failed, newJob, successful } from '../testing/job-fixtures';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

/** JobHistoryRepository: listing newest first, and purging old finished jobs. */
export function describeJobHistory(backend: StoreBackend): void {
  describe(`job history on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

    it('lists jobs newest first with every field, as findJob has them', async () => {
      const submittedBy = `history-${randomUUID()}`;
      const at = new Date('2029-09-09T09:09:09.909Z');
      const jobs = [
        newJob({ submittedBy, createdAt: at }),
        newJob({ submittedBy, createdAt: at, priority: 7 }),
        newJob({ submittedBy, createdAt: new Date(at.getTime() - 1) }),
      ];
      for (const job of jobs) await store.createJob(job);
      await store.claimJob(jobs[0].id, 'runner-a', at);
      await store.appendOutput(jobs[0].id, 'one\ntwo');
      await store.appendEvents(jobs[0].id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: at }]);
      await store.cancelJob(jobs[0].id, 'stop', at);

      const listed = await other.listJobs({ submittedBy }, 10);
      const sameTime = [jobs[0].id, jobs[1].id].sort().reverse();
      expect(listed.map((r) => r.id)).toEqual([...sameTime, jobs[2].id]);
      for (const record of listed) expect(record).toEqual(await store.findJob(record.id));
      expect(listed.find((r) => r.id === jobs[0].id)).toMatchObject({
        outputLines: 2,
        eventCount: 1,
        cancelRequestedAt: at,
        status: JobStatus.Running,
      });
      // Past the first of the tie, by cursor.
      const afterFirst = await store.listJobs({ submittedBy }, 10, { createdAt: at, id: sameTime[0] });
      expect(afterFirst.map((r) => r.id)).toEqual([sameTime[1], jobs[2].id]);
    });

    describe('purgeFinishedBefore', () => {
      it('deletes finished jobs created before the date, with output and events, in batches', async () => {
        // Far in the past, so no other scenario's jobs are old enough to be purged.
        const old = (ms: number) => new Date(Date.UTC(1990, 0, 1) + ms);
        const finished: string[] = [];
        const kept: string[] = [];
        // More than one purge batch (1000).
        const ids = Array.from({ length: 1203 }, () => randomUUID());
        for (const [i, id] of ids.entries()) {
          await store.createJob(newJob({ id, createdAt: old(i) }));
          if (i % 100 === 0) {
            await store.claimJob(id, 'runner-a', old(i));
            kept.push(id); // running: never purged
          } else {
            await store.completeJob(id, i % 2 ? successful : failed, old(i));
            finished.push(id);
          }
        }
        await store.appendOutput(finished[0], 'old output\n');
        await store.appendEvents(finished[0], [{ type: 'play_start', host: null, task: null, data: {}, createdAt: old(0) }]);
        const newer = newJob({ createdAt: old(10_000_000) });
        await store.createJob(newer);
        await store.completeJob(newer.id, successful, old(10_000_000));

        expect(await store.purgeFinishedBefore(old(5_000_000))).toBe(finished.length);
        for (const id of [finished[0], finished[finished.length - 1]]) expect(await store.findJob(id)).toBeUndefined();
        for (const id of kept) expect(await store.findJob(id)).toMatchObject({ status: JobStatus.Running });
        expect(await store.findJob(newer.id)).toMatchObject({ status: JobStatus.Successful });
        // The cascade took output and events: re-creating the id shows none.
        await store.createJob(newJob({ id: finished[0], createdAt: old(0) }));
        expect(await store.readOutput(finished[0])).toBe('');
        expect(await store.readEvents(finished[0], { limit: 10 })).toEqual([]);
        expect(await store.purgeFinishedBefore(old(5_000_000))).toBe(0);
        await store.deleteJob(finished[0]);
      });
    });
  });
}
