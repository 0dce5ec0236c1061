import { JobKind, JobSpec, JobStatus } from '@flansible/contracts';
import { CompiledQuery, Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createJobStore, openStoreDatabase } from './create-job-store';
import { JobListCursor, JobListFilter, JobRecord, JobStore } from './job-store';
import { jobListQuery } from './kysely-job-store';
import { StoreDatabase, StoreDialect } from './store-database';
import { STORE_BACKENDS, StoreLocation } from './testing/store-backends';

jest.setTimeout(120_000);

const JOB_COUNT = 100_000;
const PAGE = 97; // not a multiple of the 4 jobs sharing each timestamp, so pages end inside ties
const BASE = Date.UTC(2025, 0, 1);
const STATUSES = Object.values(JobStatus);

/** What the spec knows about each seeded job: enough to work out every expected page. */
interface SeededJob {
  id: string;
  kind: JobKind;
  status: JobStatus;
  submittedBy: string;
  inventory: string | null;
  createdAt: number;
}

function seededJob(i: number): SeededJob {
  const kind = i % 10 === 0 ? JobKind.Git : i % 3 === 0 ? JobKind.Playbook : JobKind.Command;
  return {
    id: randomUUID(),
    kind,
    status: STATUSES[i % STATUSES.length],
    submittedBy: `user${i % 37}`,
    inventory: kind === JobKind.Git ? null : `/srv/inventories/${i % 13}.ini`,
    // Four jobs per millisecond-exact timestamp: the id breaks the ties.
    createdAt: BASE + Math.floor(i / 4) * 1000,
  };
}

function specOf(job: SeededJob): JobSpec {
  switch (job.kind) {
    case JobKind.Git:
      return { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false };
    case JobKind.Playbook:
      return {
        kind: JobKind.Playbook,
        inventoryPath: job.inventory!,
        playbookDir: '/srv/playbooks',
        playbookPath: 'site.yml',
      };
    default:
      return { kind: JobKind.Command, inventoryPath: job.inventory!, hostPattern: 'all', module: 'ping' };
  }
}

/** Newest first, id descending among equal times: what listJobs promises. */
function newestFirst(a: SeededJob, b: SeededJob): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

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

const cursorOf = (job: { createdAt: number | Date; id: string }): JobListCursor => ({
  createdAt: new Date(job.createdAt),
  id: job.id,
});

/** Inserts the jobs in multi-row INSERTs inside one transaction (seeding only; the store adds one at a time). */
async function seed(db: Kysely<StoreDatabase>, jobs: SeededJob[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (let at = 0; at < jobs.length; at += 1000) {
      const rows = jobs.slice(at, at + 1000).map((job) => ({
        id: job.id,
        kind: job.kind,
        status: job.status,
        reason: job.status === JobStatus.Successful ? null : 'seeded',
        return_code: null,
        submitted_by: job.submittedBy,
        inventory: job.inventory,
        spec: JSON.stringify(specOf(job)),
        runner_id: null,
        created_at: job.createdAt,
        started_at: null,
        finished_at: null,
      }));
      await trx.insertInto('jobs').values(rows).execute();
    }
  });
}

/** The plan the engine picks for a history page, to print as evidence (never asserted). */
async function explain(
  db: Kysely<StoreDatabase>,
  dialect: StoreDialect,
  filter: JobListFilter,
  cursor?: JobListCursor,
): Promise<string> {
  const query = jobListQuery(db, filter, PAGE, cursor).compile();
  if (dialect === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]),
    );
    return plan.rows.map((r) => r.detail).join(' | ');
  }
  const plan = await db.executeQuery<{ 'QUERY PLAN': string }>(
    CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`, [...query.parameters]),
  );
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe.each(STORE_BACKENDS)('job history over 100,000 jobs on $name', (backend) => {
  let location: StoreLocation;
  let store: JobStore;
  let raw: { db: Kysely<StoreDatabase>; dialect: StoreDialect };
  let jobs: SeededJob[];
  const timings: string[] = [];

  beforeAll(async () => {
    location = await backend.fresh();
    const migrating = createJobStore(location.config);
    await migrating.migrate();
    await migrating.close();
    jobs = Array.from({ length: JOB_COUNT }, (_, i) => seededJob(i));
    raw = openStoreDatabase(location.config);
    const started = performance.now();
    await seed(raw.db, jobs);
    // PostgreSQL's autovacuum gathers statistics soon enough; ANALYZE now so the plans are the
    // steady-state ones. On SQLite the store itself refreshes them when it opens the file
    // (PRAGMA optimize): opening it after seeding is a restart of the embedded deployment.
    if (raw.dialect === 'postgres') await raw.db.executeQuery(CompiledQuery.raw('ANALYZE jobs'));
    await raw.db.destroy();
    store = createJobStore(location.config);
    // For EXPLAIN: a connection opened like the store's, after the seeding.
    raw = openStoreDatabase(location.config);
    await store.migrate();
    const took = (performance.now() - started).toFixed(0);
    console.log(`${backend.name}: seeded ${JOB_COUNT} jobs and reopened the store in ${took} ms`);
    jobs.sort(newestFirst);
  });

  afterAll(async () => {
    if (timings.length) {
      console.log(`${backend.name}: history pages of ${PAGE} over ${JOB_COUNT} jobs\n${timings.join('\n')}`);
    }
    await raw?.db.destroy();
    await store?.close();
    await location?.dispose();
  });

  /** Reads three pages through the cursor and checks them against the expected order. */
  async function checkThreePages(label: string, filter: JobListFilter): Promise<void> {
    const expected = jobs.filter((job) => matches(job, filter));
    const seen: JobRecord[] = [];
    let cursor: JobListCursor | undefined;
    let took = 0;
    for (let page = 0; page < 3; page++) {
      const started = performance.now();
      const rows = await store.listJobs(filter, PAGE, cursor);
      took = performance.now() - started;
      seen.push(...rows);
      if (rows.length < PAGE) break;
      cursor = cursorOf(rows[rows.length - 1]);
    }
    expect(seen.map((r) => r.id)).toEqual(expected.slice(0, 3 * PAGE).map((j) => j.id));
    expect(new Set(seen.map((r) => r.id)).size).toBe(seen.length);
    timings.push(`  ${label} (${expected.length} match): 3rd page ${took.toFixed(2)} ms`);
  }

  it('pages through everything newest first, without gaps or repeats, ties broken by id', async () => {
    await checkThreePages('no filter', {});
    const first = await store.listJobs({}, 3);
    expect(first.map((r) => r.createdAt.getTime())).toEqual(jobs.slice(0, 3).map((j) => j.createdAt));
    expect(first[0]).toMatchObject({ priority: 0, cancelRequestedAt: null, outputLines: 0, eventCount: 0 });

    // Deep in the history: a cursor at the 90,000th job costs no more than the first page.
    const deep = jobs[89_999];
    const started = performance.now();
    const page = await store.listJobs({}, PAGE, cursorOf(deep));
    timings.push(`  no filter, cursor at job 90,000: ${(performance.now() - started).toFixed(2)} ms`);
    expect(page.map((r) => r.id)).toEqual(jobs.slice(90_000, 90_000 + PAGE).map((j) => j.id));
    // The last page is short, and after it nothing.
    const tail = await store.listJobs({}, PAGE, cursorOf(jobs[JOB_COUNT - 10]));
    expect(tail.map((r) => r.id)).toEqual(jobs.slice(JOB_COUNT - 9).map((j) => j.id));
    expect(await store.listJobs({}, PAGE, cursorOf(jobs[JOB_COUNT - 1]))).toEqual([]);
    expect(await store.listJobs({}, 0)).toEqual([]);
  });

  it.each<[string, JobListFilter]>([
    ['statuses', { statuses: [JobStatus.Failed, JobStatus.Error] }],
    ['one status', { statuses: [JobStatus.Running] }],
    ['empty statuses = any', { statuses: [] }],
    ['kind', { kind: JobKind.Playbook }],
    ['submitter', { submittedBy: 'user5' }],
    ['inventory', { inventory: '/srv/inventories/3.ini' }],
    ['created window', { createdAfter: new Date(BASE + 5_000_000), createdBefore: new Date(BASE + 6_000_000) }],
    [
      'visible to a user and two inventories',
      { visibleTo: { user: 'user7', inventories: ['/srv/inventories/2.ini', '/srv/inventories/5.ini'] } },
    ],
    ['visible to a user only', { visibleTo: { user: 'user7', inventories: [] } }],
    [
      'combined',
      {
        statuses: [JobStatus.Successful, JobStatus.Failed],
        kind: JobKind.Command,
        submittedBy: 'user11',
        createdBefore: new Date(BASE + 20_000_000),
      },
    ],
    ['no match', { submittedBy: 'nobody' }],
  ])('filters by %s', async (label, filter) => {
    await checkThreePages(label, filter);
  });

  it('prints the plans of typical pages (evidence only)', async () => {
    const middle = cursorOf(jobs[50_000]);
    const plans: [string, JobListFilter][] = [
      ['no filter', {}],
      ['submitter', { submittedBy: 'user5' }],
      ['statuses', { statuses: [JobStatus.Failed, JobStatus.Error] }],
      ['visibleTo', { visibleTo: { user: 'user7', inventories: ['/srv/inventories/2.ini'] } }],
    ];
    const out: string[] = [];
    for (const [label, filter] of plans) {
      out.push(`--- ${label}, cursor at job 50,000:\n${await explain(raw.db, raw.dialect, filter, middle)}`);
    }
    console.log(`${backend.name} history plans:\n${out.join('\n')}`);
  });
});
