import { Kysely, Migration } from 'kysely';

/**
 * The outbox flag: a row per job whose message the broker confirmed, so that a queued job whose
 * gateway died before the confirm (no row) is found and published by a reconciler. A table of its
 * own, not a column: marking a job is then an INSERT that takes only a key-share lock on the job
 * row, which a runner's claim (FOR NO KEY UPDATE SKIP LOCKED) neither waits for nor skips; an
 * UPDATE of the job row, just as its message reaches a runner, would make that claim skip the job.
 */
export function jobOutbox(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('job_publications')
        .ifNotExists()
        .addColumn('job_id', 'text', (c) => c.primaryKey().notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('published_at', 'bigint', (c) => c.notNull())
        .execute();
      // Queued jobs stored before this migration were published by the gateway that answered for
      // them (only queued jobs are ever looked at).
      await db
        .insertInto('job_publications')
        .columns(['job_id', 'published_at'])
        .expression((eb) => eb.selectFrom('jobs').select(['id', 'created_at']).where('status', '=', 'queued'))
        .onConflict((oc) => oc.column('job_id').doNothing())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('job_publications').ifExists().execute();
    },
  };
}
