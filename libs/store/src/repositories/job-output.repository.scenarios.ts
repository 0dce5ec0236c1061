import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { newJob } from '../testing/job-fixtures';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

/** JobOutputRepository: output in append order, NUL, orphans, and deletion with the job. */
export function describeJobOutput(backend: StoreBackend): void {
  describe(`job output on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

    it('reads back output in append order over many batches, kept apart per job', async () => {
      const first = newJob();
      const second = newJob();
      await store.createJob(first);
      await store.createJob(second);
      expect(await store.readOutput(first.id)).toBe('');

      const expectedFirst: string[] = [];
      const expectedSecond: string[] = [];
      for (let i = 0; i < 300; i++) {
        const line = `line ${i} ✓ ${'x'.repeat(i % 17)}\n`;
        // Alternate writers and connections so ids from both jobs interleave.
        await (i % 2 ? other : store).appendOutput(first.id, line);
        expectedFirst.push(line);
        if (i % 3 === 0) {
          await store.appendOutput(second.id, `second ${i}\n`);
          expectedSecond.push(`second ${i}\n`);
        }
      }
      await store.appendOutput(first.id, '');

      expect(await store.readOutput(first.id)).toBe(expectedFirst.join(''));
      expect(await other.readOutput(second.id)).toBe(expectedSecond.join(''));
      expect(await store.readOutput(randomUUID())).toBe('');
    });

    it('stores output and reasons containing NUL (replaced, as PostgreSQL cannot hold it)', async () => {
      const job = newJob();
      await store.createJob(job);
      await store.appendOutput(job.id, 'a\0b');
      expect(await store.readOutput(job.id)).toBe('a\uFFFDb');
      await store.completeJob(job.id, { status: JobStatus.Error, reason: 'bad\0byte', returnCode: null }, new Date());
      expect((await store.findJob(job.id))?.reason).toBe('bad\uFFFDbyte');
    });

    it('rejects output and events for a job that does not exist', async () => {
      const id = randomUUID();
      await expect(store.appendOutput(id, 'orphan')).rejects.toMatchObject({
        message: `no job ${id}: output must belong to an existing job`,
      });
      await expect(
        store.appendEvents(id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: new Date() }]),
      ).rejects.toMatchObject({ message: `no job ${id}: events must belong to an existing job` });
    });

    it('deletes a job together with its output and events', async () => {
      const job = newJob();
      const kept = newJob();
      await store.createJob(job);
      await store.createJob(kept);
      await store.appendOutput(job.id, 'one\n');
      await store.appendOutput(job.id, 'two\n');
      await store.appendOutput(kept.id, 'kept\n');
      await store.appendEvents(job.id, [{ type: 'play_start', host: null, task: null, data: {}, createdAt: new Date() }]);

      await store.deleteJob(job.id);
      expect(await store.findJob(job.id)).toBeUndefined();
      // Re-creating the same id proves no orphaned output or event rows were left behind.
      await store.createJob(job);
      expect(await store.readOutput(job.id)).toBe('');
      expect(await store.readOutputLines(job.id, 1, 10)).toEqual({ lines: [], from: 1, totalLines: 0, endsWithNewline: true });
      expect(await store.readEvents(job.id, { limit: 10 })).toEqual([]);
      expect(await store.readOutput(kept.id)).toBe('kept\n');

      await expect(store.deleteJob(randomUUID())).resolves.toBeUndefined();
    });
  });
}
