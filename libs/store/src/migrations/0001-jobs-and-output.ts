import { Kysely, Migration } from 'kysely';
import { StoreDialect } from '../store-database';

/** Jobs and their output. */
export function initialSchema(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('jobs')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull()) // SQLite would allow a NULL key otherwise
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('return_code', 'integer')
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('inventory', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('runner_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      // Recovery and status listings: WHERE status IN (...) ORDER BY created_at.
      await db.schema
        .createIndex('jobs_status_created_at_idx')
        .ifNotExists()
        .on('jobs')
        .columns(['status', 'created_at'])
        .execute();
      // History, newest or oldest first, keyset-paginated on (created_at, id).
      await db.schema.createIndex('jobs_created_at_id_idx').ifNotExists().on('jobs').columns(['created_at', 'id']).execute();

      await db.schema
        .createTable('job_output')
        .ifNotExists()
        // The one dialect difference: an auto-assigned, increasing id. In SQLite an INTEGER PRIMARY
        // KEY is the rowid (always above every existing id); PostgreSQL needs an identity column.
        .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
          dialect === 'sqlite' ? c.primaryKey() : c.primaryKey().generatedByDefaultAsIdentity(),
        )
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('chunk', 'text', (c) => c.notNull())
        .execute();
      // readOutput: WHERE job_id = ? ORDER BY id, straight off the index. Also serves the cascade.
      await db.schema
        .createIndex('job_output_job_id_id_idx')
        .ifNotExists()
        .on('job_output')
        .columns(['job_id', 'id'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('job_output').ifExists().execute();
      await db.schema.dropTable('jobs').ifExists().execute();
    },
  };
}
