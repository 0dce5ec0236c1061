/**
 * The history query over 100,000 jobs on both store backends (SQLite in a temp dir, PostgreSQL in a
 * throwaway database): how long seeding and reopening take, the third page of each filter, a page
 * deep in the history, and the plans the engines pick (evidence, never asserted). The spec beside
 * the store checks the pages' contents; this measures them.
 */
import { CompiledQuery, Kysely } from 'kysely';
import { performance } from 'node:perf_hooks';
import {
  cursorOf,
  HISTORY_FILTERS,
  HISTORY_JOB_COUNT,
  HISTORY_PAGE,
  jobListQuery,
  JobListCursor,
  JobListFilter,
  openSeededHistory,
  openStoreDatabase,
  POSTGRES_BACKEND,
  SQLITE_BACKEND,
  StoreBackend,
  StoreDatabase,
  StoreDialect,
} from '@flansible/store/testing';

/** The plan the engine picks for a history page. */
async function explain(db: Kysely<StoreDatabase>, dialect: StoreDialect, filter: JobListFilter, cursor?: JobListCursor): Promise<string> {
  const query = jobListQuery(db, filter, HISTORY_PAGE, cursor).compile();
  if (dialect === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${query.sql}`, [...query.parameters]));
    return plan.rows.map((r) => r.detail).join(' | ');
  }
  const plan = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`, [...query.parameters]));
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function timed<T>(work: () => Promise<T>): Promise<[T, string]> {
  const started = performance.now();
  const result = await work();
  return [result, `${(performance.now() - started).toFixed(2)} ms`];
}

async function benchBackend(backend: StoreBackend): Promise<void> {
  const location = await backend.fresh();
  try {
    const [{ store, jobs }, seeding] = await timed(() => openSeededHistory(location.config));
    try {
      console.log(`[store-history] ${backend.name}: seeded ${HISTORY_JOB_COUNT} jobs and reopened the store in ${seeding}`);
      const lines: string[] = [];
      for (const [label, filter] of [['no filter', {}] as [string, JobListFilter], ...HISTORY_FILTERS]) {
        let cursor: JobListCursor | undefined;
        let took = '';
        for (let page = 0; page < 3; page++) {
          const [rows, time] = await timed(() => store.listJobs(filter, HISTORY_PAGE, cursor));
          took = time;
          if (rows.length < HISTORY_PAGE) break;
          cursor = cursorOf(rows[rows.length - 1]);
        }
        lines.push(`  ${label}: 3rd page ${took}`);
      }
      const [, deep] = await timed(() => store.listJobs({}, HISTORY_PAGE, cursorOf(jobs[89_999])));
      lines.push(`  no filter, cursor at job 90,000: ${deep}`);
      console.log(`[store-history] ${backend.name}: history pages of ${HISTORY_PAGE} over ${HISTORY_JOB_COUNT} jobs\n${lines.join('\n')}`);

      const raw = openStoreDatabase(location.config);
      try {
        const middle = cursorOf(jobs[50_000]);
        const plans: [string, JobListFilter][] = [
          ['no filter', {}],
          ['submitter', { submittedBy: 'user5' }],
          ['statuses', HISTORY_FILTERS[0][1]],
          ['visibleTo', { visibleTo: { user: 'user7', inventories: ['/srv/inventories/2.ini'] } }],
        ];
        const out: string[] = [];
        for (const [label, filter] of plans) out.push(`--- ${label}, cursor at job 50,000:\n${await explain(raw.db, raw.dialect, filter, middle)}`);
        console.log(`[store-history] ${backend.name} history plans:\n${out.join('\n')}`);
      } finally {
        await raw.db.destroy();
      }
    } finally {
      await store.close();
    }
  } finally {
    await location.dispose();
  }
}

export async function benchStoreHistory(): Promise<void> {
  for (const backend of [SQLITE_BACKEND, POSTGRES_BACKEND]) await benchBackend(backend);
}
