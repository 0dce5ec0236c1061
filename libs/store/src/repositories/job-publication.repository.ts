import { JobStatus } from '@flansible/contracts';
import { Kysely } from 'kysely';
import { JobRecord } from '../job-records';
import { StoreDatabase } from '../store-database';
import { toRecord } from './job-rows';

/** The outbox flag (job_publications): which jobs' messages a broker confirmed. */
export class JobPublicationRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /** An INSERT beside the job, never an UPDATE of it: see migration 0005 (claims must not skip the job). */
  async markPublished(id: string, at: Date): Promise<void> {
    await this.db
      .insertInto('job_publications')
      .columns(['job_id', 'published_at'])
      // Nothing when the job is gone (deleted or purged meanwhile).
      .expression((eb) => eb.selectFrom('jobs').select((e) => ['id', e.val(at.getTime()).as('published_at')]).where('id', '=', id))
      .onConflict((oc) => oc.column('job_id').doNothing())
      .execute();
  }

  async findUnpublished(createdBefore: Date, limit: number): Promise<JobRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', JobStatus.Queued)
      .where('created_at', '<', createdBefore.getTime())
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job_publications as p').select('p.job_id').whereRef('p.job_id', '=', 'jobs.id'))))
      .orderBy('created_at')
      .orderBy('id')
      .limit(Math.floor(limit))
      .execute();
    return rows.map(toRecord);
  }
}
