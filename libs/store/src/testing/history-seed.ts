import { JobKind, JobSpec, JobStatus } from '@flansible/contracts';
import { CompiledQuery, Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createJobStore, openStoreDatabase } from '../create-job-store';
import { JobListCursor, JobListFilter } from '../job-records';
import { JobStore } from '../job-store';
import { StoreDatabase } from '../store-database';
import { StoreLocationConfig } from './store-backends';

/** A history big enough that a page which scans instead of seeking shows (spec and bench). */
export const HISTORY_JOB_COUNT = 100_000;
/** Not a multiple of the 4 jobs sharing each timestamp, so pages end inside ties. */
export const HISTORY_PAGE = 97;
export const HISTORY_BASE = Date.UTC(2025, 0, 1);
const STATUSES = Object.values(JobStatus);

/** The filters the history spec checks and the bench times, by label. */
export const HISTORY_FILTERS: [string, JobListFilter][] = [
  ['statuses', { statuses: [JobStatus.Failed, JobStatus.Error] }],
  ['one status', { statuses: [JobStatus.Running] }],
  ['empty statuses = any', { statuses: [] }],
  ['kind', { kind: JobKind.Playbook }],
  ['submitter', { submittedBy: 'user5' }],
  ['inventory', { inventory: '/srv/inventories/3.ini' }],
  ['created window', { createdAfter: new Date(HISTORY_BASE + 5_000_000), createdBefore: new Date(HISTORY_BASE + 6_000_000) }],
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
      createdBefore: new Date(HISTORY_BASE + 20_000_000),
    },
  ],
  ['no match', { submittedBy: 'nobody' }],
];

/** What is known about each seeded job: enough to work out every expected page. */
export interface SeededJob {
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
    createdAt: HISTORY_BASE + Math.floor(i / 4) * 1000,
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

export const cursorOf = (job: { createdAt: number | Date; id: string }): JobListCursor => ({
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

/**
 * Migrates an empty database, seeds HISTORY_JOB_COUNT jobs and opens the store on them, as an
 * embedded deployment restarting on that file would. Returns the store and the jobs newest first.
 */
export async function openSeededHistory(config: StoreLocationConfig): Promise<{ store: JobStore; jobs: SeededJob[] }> {
  const migrating = createJobStore(config);
  await migrating.migrate();
  await migrating.close();
  const jobs = Array.from({ length: HISTORY_JOB_COUNT }, (_, i) => seededJob(i));
  const raw = openStoreDatabase(config);
  await seed(raw.db, jobs);
  // PostgreSQL's autovacuum gathers statistics soon enough; ANALYZE now so the plans are the
  // steady-state ones. On SQLite the store itself refreshes them when it opens the file
  // (PRAGMA optimize): opening it after seeding is a restart of the embedded deployment.
  if (raw.dialect === 'postgres') await raw.db.executeQuery(CompiledQuery.raw('ANALYZE jobs'));
  await raw.db.destroy();
  const store = createJobStore(config);
  await store.migrate();
  return { store, jobs: jobs.sort(newestFirst) };
}
