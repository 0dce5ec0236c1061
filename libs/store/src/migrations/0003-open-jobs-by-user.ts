import { Kysely, Migration } from 'kysely';

/** countOpenJobs on every submission: WHERE submitted_by = ? AND status IN (queued, running), off the index. */
export function openJobsByUser(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createIndex('jobs_submitted_by_status_idx')
        .ifNotExists()
        .on('jobs')
        .columns(['submitted_by', 'status'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('jobs_submitted_by_status_idx').ifExists().execute();
    },
  };
}
