import { JobListCursor, JobListFilter, JobRecord } from '../job-records';
import { JobStore } from '../job-store';
import {
  cursorOf,
  HISTORY_FILTERS,
  HISTORY_JOB_COUNT as JOB_COUNT,
  HISTORY_PAGE as PAGE,
  openSeededHistory,
  SeededJob,
} from '../testing/history-seed';
import { StoreBackend, StoreLocation } from '../testing/store-backends';

function matches(job: SeededJob, filter: JobListFilter): boolean {
  if (filter.statuses?.length && !filter.statuses.includes(job.status)) return false;
  if (filter.kind !== undefined && job.kind !== filter.kind) return false;
  if (filter.submittedBy !== undefined && job.submittedBy !== filter.submittedBy) return false;
  if (filter.inventory !== undefined && job.inventory !== filter.inventory) return false;
  if (filter.createdBefore !== undefined && !(job.createdAt < filter.createdBefore.getTime())) return false;
  if (filter.createdAfter !== undefined && !(job.createdAt > filter.createdAfter.getTime())) return false;
  const visible = filter.visibleTo;
  if (visible === undefined || job.submittedBy === visible.user) return true;
  return job.inventory !== null && visible.inventories.includes(job.inventory);
}

/**
 * listJobs over 100,000 jobs: keyset pages in order, every filter. Page times and query plans are
 * measured by the bench (BENCH_ONLY=store-history), not here.
 */
export function describeHistoryPaging(backend: StoreBackend): void {
  describe(`job history over 100,000 jobs on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: JobStore;
    let jobs: SeededJob[];

    beforeAll(async () => {
      location = await backend.fresh();
      ({ store, jobs } = await openSeededHistory(location.config));
    });

    afterAll(async () => {
      await store?.close();
      await location?.dispose();
    });

    /** Reads three pages through the cursor and checks them against the expected order. */
    async function checkThreePages(filter: JobListFilter): Promise<void> {
      const expected = jobs.filter((job) => matches(job, filter));
      const seen: JobRecord[] = [];
      let cursor: JobListCursor | undefined;
      for (let page = 0; page < 3; page++) {
        const rows = await store.listJobs(filter, PAGE, cursor);
        seen.push(...rows);
        if (rows.length < PAGE) break;
        cursor = cursorOf(rows[rows.length - 1]);
      }
      expect(seen.map((r) => r.id)).toEqual(expected.slice(0, 3 * PAGE).map((j) => j.id));
      expect(new Set(seen.map((r) => r.id)).size).toBe(seen.length);
    }

    it('pages through everything newest first, without gaps or repeats, ties broken by id', async () => {
      await checkThreePages({});
      const first = await store.listJobs({}, 3);
      expect(first.map((r) => r.createdAt.getTime())).toEqual(jobs.slice(0, 3).map((j) => j.createdAt));
      expect(first[0]).toMatchObject({ priority: 0, cancelRequestedAt: null, outputLines: 0, eventCount: 0 });

      // Deep in the history: a cursor at the 90,000th job.
      const page = await store.listJobs({}, PAGE, cursorOf(jobs[89_999]));
      expect(page.map((r) => r.id)).toEqual(jobs.slice(90_000, 90_000 + PAGE).map((j) => j.id));
      // The last page is short, and after it nothing.
      const tail = await store.listJobs({}, PAGE, cursorOf(jobs[JOB_COUNT - 10]));
      expect(tail.map((r) => r.id)).toEqual(jobs.slice(JOB_COUNT - 9).map((j) => j.id));
      expect(await store.listJobs({}, PAGE, cursorOf(jobs[JOB_COUNT - 1]))).toEqual([]);
      expect(await store.listJobs({}, 0)).toEqual([]);
    });

    it.each<[string, JobListFilter]>(HISTORY_FILTERS)('filters by %s', async (_label, filter) => {
      await checkThreePages(filter);
    });
  });
}
