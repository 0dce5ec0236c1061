import { Kysely, sql } from 'kysely';
import { JobListCursor, JobListFilter, JobRecord } from '../job-records';
import { StoreDatabase, StoreDialect } from '../store-database';
import { FINAL_STATUSES, toRecord } from './job-rows';

/** Jobs deleted per statement by a purge, so no single transaction grows with the purge. */
const PURGE_BATCH = 1000;

/**
 * The history query, newest first on (created_at, id); exported for specs that EXPLAIN it. The
 * cursor condition is a bound on created_at plus a tie-break on id, so both engines turn it into
 * an index range rather than a filter.
 */
export function jobListQuery(db: Kysely<StoreDatabase>, filter: JobListFilter, limit: number, cursor?: JobListCursor) {
  const { statuses, kind, submittedBy, inventory, createdBefore, createdAfter, visibleTo } = filter;
  return db
    .selectFrom('jobs')
    .selectAll()
    .$if(statuses !== undefined && statuses.length > 0, (qb) => qb.where('status', 'in', statuses!))
    .$if(kind !== undefined, (qb) => qb.where('kind', '=', kind!))
    .$if(submittedBy !== undefined, (qb) => qb.where('submitted_by', '=', submittedBy!))
    .$if(inventory !== undefined, (qb) => qb.where('inventory', '=', inventory!))
    .$if(createdBefore !== undefined, (qb) => qb.where('created_at', '<', createdBefore!.getTime()))
    .$if(createdAfter !== undefined, (qb) => qb.where('created_at', '>', createdAfter!.getTime()))
    .$if(visibleTo !== undefined, (qb) =>
      qb.where((eb) =>
        visibleTo!.inventories.length === 0
          ? eb('submitted_by', '=', visibleTo!.user)
          : eb.or([eb('submitted_by', '=', visibleTo!.user), eb('inventory', 'in', visibleTo!.inventories)]),
      ),
    )
    .$if(cursor !== undefined, (qb) =>
      qb
        .where('created_at', '<=', cursor!.createdAt.getTime())
        .where((eb) => eb.or([eb('created_at', '<', cursor!.createdAt.getTime()), eb('id', '<', cursor!.id)])),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.floor(limit));
}

/** The history of jobs: listing it, and purging what is old and finished. */
export class JobHistoryRepository {
  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {}

  async list(filter: JobListFilter, limit: number, cursor?: JobListCursor): Promise<JobRecord[]> {
    if (limit <= 0) return [];
    const rows = await jobListQuery(this.db, filter, limit, cursor).execute();
    return rows.map(toRecord);
  }

  /** In batches of PURGE_BATCH jobs, each its own statement (and transaction). */
  async purgeFinishedBefore(before: Date): Promise<number> {
    const purged = await this.purgeInBatches(before);
    // The periodic chore SQLite asks long-lived connections for; PostgreSQL's autovacuum does it there.
    if (this.dialect === 'sqlite' && purged > 0) await sql`PRAGMA optimize`.execute(this.db);
    return purged;
  }

  private async purgeInBatches(before: Date): Promise<number> {
    let purged = 0;
    for (;;) {
      const batch = await this.db
        .selectFrom('jobs')
        .select('id')
        .where('status', 'in', FINAL_STATUSES)
        .where('created_at', '<', before.getTime())
        .limit(PURGE_BATCH)
        .execute();
      if (batch.length === 0) return purged;
      const result = await this.db
        .deleteFrom('jobs')
        .where('id', 'in', batch.map((r) => r.id))
        .where('status', 'in', FINAL_STATUSES)
        .executeTakeFirst();
      purged += Number(result.numDeletedRows);
      if (batch.length < PURGE_BATCH) return purged;
    }
  }
}
