import { HostSummary, JobEvent, JobEventType, NewJobEvent } from '@flansible/contracts';
import { Kysely, sql } from 'kysely';
import { EventQuery } from '../job-records';
import { HOST_RESULT_EVENTS, summaryFromHostEvents, summaryFromStats } from '../host-summary';
import { StoreDatabase } from '../store-database';
import { storableOrNull, toEvent } from './job-rows';

/** Rows per multi-row INSERT: far below the bind-parameter limits of both engines. */
const EVENT_INSERT_BATCH = 500;

/** A job's structured events (job_events), numbered per job, and the per-host summary of them. */
export class JobEventRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /**
   * Counters come from the job row, advanced first in the transaction: in PostgreSQL that UPDATE
   * locks the row until commit, so concurrent appends to one job queue up behind it.
   */
  async append(id: string, events: NewJobEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const job = await trx
        .updateTable('jobs')
        .set({ event_count: sql<number>`event_count + ${events.length}` })
        .where('id', '=', id)
        .returning('event_count')
        .executeTakeFirst();
      if (!job) throw new Error(`no job ${id}: events must belong to an existing job`);
      let counter = Number(job.event_count) - events.length;
      for (let at = 0; at < events.length; at += EVENT_INSERT_BATCH) {
        const rows = events.slice(at, at + EVENT_INSERT_BATCH).map((event) => ({
          job_id: id,
          counter: ++counter,
          type: event.type,
          host: storableOrNull(event.host),
          task: storableOrNull(event.task),
          // JSON escapes NUL as \u0000, so the text itself never holds one.
          data: JSON.stringify(event.data ?? {}),
          created_at: event.createdAt.getTime(),
        }));
        await trx.insertInto('job_events').values(rows).execute();
      }
    });
  }

  async read(id: string, query: EventQuery): Promise<JobEvent[]> {
    if (query.limit <= 0) return [];
    const { after, host, types } = query;
    const rows = await this.db
      .selectFrom('job_events')
      .selectAll()
      .where('job_id', '=', id)
      .$if(after !== undefined, (qb) => qb.where('counter', '>', after!))
      .$if(host !== undefined, (qb) => qb.where('host', '=', host!))
      .$if(types !== undefined && types.length > 0, (qb) => qb.where('type', 'in', types!))
      .orderBy('counter')
      .limit(Math.floor(query.limit))
      .execute();
    return rows.map(toEvent);
  }

  /** From the last stats event when it has hosts, else counted from the host events (host-summary.ts). */
  async summarize(id: string): Promise<HostSummary[]> {
    const stats = await this.db
      .selectFrom('job_events')
      .select('data')
      .where('job_id', '=', id)
      .where('type', '=', JobEventType.Stats)
      .orderBy('counter', 'desc')
      .limit(1)
      .executeTakeFirst();
    const fromStats = stats && summaryFromStats(JSON.parse(stats.data));
    if (fromStats) return fromStats;
    const rows = await this.db
      .selectFrom('job_events')
      .select(['host', 'type', 'data'])
      .where('job_id', '=', id)
      .where('type', 'in', HOST_RESULT_EVENTS)
      .orderBy('counter')
      .execute();
    return summaryFromHostEvents(rows);
  }
}
