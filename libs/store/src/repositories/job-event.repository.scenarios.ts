import { JobEventType, NewJobEvent } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { newJob } from '../testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from '../testing/store-backends';

let clock = Date.UTC(2034, 0, 1);
function event(
  type: JobEventType,
  host: string | null,
  data: Record<string, unknown> = {},
  task: string | null = 'a task',
): NewJobEvent {
  return { type, host, task, data, createdAt: new Date(clock++) };
}

const ZERO = { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };

/** JobEventRepository: numbering, paging and filters, and the per-host summary. */
export function describeJobEvents(backend: StoreBackend): void {
  describe(`job events on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: JobStore;
    let other: JobStore;

    withMigratedStores(backend, (opened) => ({ store, other, location } = opened));

    async function createdJob(): Promise<string> {
      const job = newJob();
      await store.createJob(job);
      return job.id;
    }

    it('numbers events 1, 2, 3 ... per job across appends, and reads them back as recorded', async () => {
      const id = await createdJob();
      const otherJob = await createdJob();
      const first = [
        event(JobEventType.PlaybookStart, null, { playbook: 'site.yml' }, null),
        event(JobEventType.PlayStart, null, { play: 'all', hosts: ['web1', 'web2'] }, null),
      ];
      const second = [
        event(JobEventType.TaskStart, null, { name: 'ping' }),
        event(JobEventType.HostOk, 'web1', { changed: false, msg: 'pong', nested: { list: [1, 'two', null] } }),
        // NUL is replaced in text columns and survives escaped inside the JSON.
        event(JobEventType.HostFailed, 'we\0b2', { msg: 'bad\0byte', rc: 2 }),
      ];
      await store.appendEvents(id, first);
      await store.appendEvents(otherJob, [event(JobEventType.PlaybookStart, null)]);
      await store.appendEvents(id, []);
      await other.appendEvents(id, second);

      const read = await store.readEvents(id, { limit: 100 });
      expect(read.map((e) => e.counter)).toEqual([1, 2, 3, 4, 5]);
      expect(read.slice(0, 4)).toEqual([...first, ...second.slice(0, 2)].map((e, i) => ({ ...e, counter: i + 1 })));
      expect(read[4]).toEqual({ ...second[2], host: 'we\uFFFDb2', counter: 5, data: { msg: 'bad\0byte', rc: 2 } });
      expect(read[0].createdAt).toBeInstanceOf(Date);
      expect((await store.findJob(id))?.eventCount).toBe(5);
      expect((await store.readEvents(otherJob, { limit: 100 })).map((e) => e.counter)).toEqual([1]);
      expect(await store.readEvents(randomUUID(), { limit: 100 })).toEqual([]);
    });

    it('pages by counter, and filters by host and by type', async () => {
      const id = await createdJob();
      const hosts = ['web1', 'web2', 'db1'];
      const all: NewJobEvent[] = [];
      for (let task = 0; task < 20; task++) {
        all.push(event(JobEventType.TaskStart, null, { name: `task ${task}` }));
        const type = task % 4 === 3 ? JobEventType.HostSkipped : JobEventType.HostOk;
        for (const host of hosts) all.push(event(type, host, { task }));
      }
      // More than one INSERT batch in one append.
      const many = Array.from({ length: 1234 }, (_, i) => event(JobEventType.ItemOk, 'web1', { item: i }));
      await store.appendEvents(id, all);
      await store.appendEvents(id, many);
      const total = all.length + many.length;
      expect((await store.findJob(id))?.eventCount).toBe(total);

      const counters: number[] = [];
      for (let after: number | undefined; ; ) {
        const page = await store.readEvents(id, { after, limit: 97 });
        counters.push(...page.map((e) => e.counter));
        if (page.length < 97) break;
        after = page[page.length - 1].counter;
      }
      expect(counters).toEqual(Array.from({ length: total }, (_, i) => i + 1));

      const db1 = await store.readEvents(id, { limit: 1000, host: 'db1' });
      expect(db1).toHaveLength(20);
      expect(db1.every((e) => e.host === 'db1')).toBe(true);
      const db1Later = await store.readEvents(id, { limit: 5, host: 'db1', after: db1[9].counter });
      expect(db1Later).toEqual(db1.slice(10, 15));

      const skipped = await store.readEvents(id, { limit: 1000, types: [JobEventType.HostSkipped] });
      expect(skipped).toHaveLength(15);
      const startsAndSkips = await store.readEvents(id, {
        limit: 1000,
        types: [JobEventType.TaskStart, JobEventType.HostSkipped],
        host: 'web2',
      });
      expect(startsAndSkips.map((e) => [e.type, e.host])).toEqual(
        Array.from({ length: 5 }, () => [JobEventType.HostSkipped, 'web2']),
      );
      expect(await store.readEvents(id, { limit: 5000, types: [] })).toHaveLength(total);
      expect(await store.readEvents(id, { limit: 0 })).toEqual([]);
      expect(await store.readEvents(id, { limit: 10, after: total })).toEqual([]);
    });

    it('numbers concurrent appends without gaps or repeats', async () => {
      const id = await createdJob();
      // PostgreSQL: two pools, so the appends overlap for real. SQLite: one store (see output lines spec).
      const writers = backend.name === 'SQLite' ? [store] : [store, other];
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          writers[i % writers.length].appendEvents(id, [event(JobEventType.HostOk, `h${i}`), event(JobEventType.HostOk, `h${i}`)]),
        ),
      );
      const read = await store.readEvents(id, { limit: 1000 });
      expect(read.map((e) => e.counter)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      // Each append's events stay together, in order.
      for (let i = 0; i < 60; i += 2) expect(read[i].host).toBe(read[i + 1].host);
      expect((await store.findJob(id))?.eventCount).toBe(60);
    });

    describe('summarize', () => {
      it('counts host events like Ansible while there are no stats yet', async () => {
        const id = await createdJob();
        expect(await store.summarize(id)).toEqual([]);
        await store.appendEvents(id, [
          event(JobEventType.PlayStart, null),
          event(JobEventType.TaskStart, null),
          event(JobEventType.HostOk, 'web2', { changed: true }),
          event(JobEventType.HostOk, 'web1', { changed: false }),
          event(JobEventType.HostOk, 'web1', {}),
          event(JobEventType.HostFailed, 'web2', { msg: 'boom' }),
          event(JobEventType.HostFailed, 'web1', { ignore_errors: true, changed: true }),
          event(JobEventType.HostSkipped, 'db1'),
          event(JobEventType.HostUnreachable, 'db2', { msg: 'no route' }),
          // Per-item results are not counted: Ansible counts the task's result once.
          event(JobEventType.ItemOk, 'web1', { changed: true }),
          event(JobEventType.ItemFailed, 'web1'),
        ]);
        expect(await store.summarize(id)).toEqual([
          { ...ZERO, host: 'db1', skipped: 1 },
          { ...ZERO, host: 'db2', unreachable: 1 },
          { ...ZERO, host: 'web1', ok: 3, changed: 1, ignored: 1 },
          { ...ZERO, host: 'web2', ok: 1, changed: 1, failed: 1 },
        ]);
      });

      it('takes the totals from the final stats event when there is one', async () => {
        const id = await createdJob();
        await store.appendEvents(id, [
          event(JobEventType.HostOk, 'web1', { changed: true }),
          event(JobEventType.HostFailed, 'web2'),
          event(JobEventType.Stats, null, {
            hosts: {
              web2: { ok: 4, changed: 1, failures: 1, unreachable: 0, skipped: 2, rescued: 1, ignored: 0 },
              web1: { ok: 5, changed: 2, failed: 0, skipped: 1, ignored: 3 },
              db1: { unreachable: 1 },
            },
          }),
        ]);
        expect(await other.summarize(id)).toEqual([
          { ...ZERO, host: 'db1', unreachable: 1 },
          { ...ZERO, host: 'web1', ok: 5, changed: 2, skipped: 1, ignored: 3 },
          { ...ZERO, host: 'web2', ok: 4, changed: 1, failed: 1, skipped: 2, rescued: 1 },
        ]);
      });

      it('accepts `failed` for `failures`, and counts host events when stats carry no hosts', async () => {
        const withFailed = await createdJob();
        await store.appendEvents(withFailed, [event(JobEventType.Stats, null, { hosts: { web1: { ok: 1, failed: 2 } } })]);
        expect(await store.summarize(withFailed)).toEqual([{ ...ZERO, host: 'web1', ok: 1, failed: 2 }]);

        const noHosts = await createdJob();
        await store.appendEvents(noHosts, [event(JobEventType.HostSkipped, 'web1'), event(JobEventType.Stats, null, {})]);
        expect(await store.summarize(noHosts)).toEqual([{ ...ZERO, host: 'web1', skipped: 1 }]);

        const empty = await createdJob();
        await store.appendEvents(empty, [event(JobEventType.Stats, null, { hosts: {} })]);
        expect(await store.summarize(empty)).toEqual([]);
        expect(await store.summarize(randomUUID())).toEqual([]);
      });
    });
  });
}
