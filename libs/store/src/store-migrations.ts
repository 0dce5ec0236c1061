import { Kysely, Migration, MigrationProvider, Migrator } from 'kysely';
import { StoreDialect } from './store-database';

/** Named so an operator sharing a PostgreSQL database can tell whose bookkeeping tables these are. */
export const MIGRATION_TABLE = 'flansible_migration';
export const MIGRATION_LOCK_TABLE = 'flansible_migration_lock';

/*
 * Migrations live in code (nothing is read from disk at run time, so the built app needs no extra
 * files). Every statement uses IF NOT EXISTS: Kysely cannot wrap SQLite DDL in a transaction, so a
 * migration interrupted half-way must be able to run again and finish. Never edit a released
 * migration; add the next one, with a name that sorts after it.
 */
function initialSchema(dialect: StoreDialect): Migration {
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

/** The store's schema history, in code. */
export class StoreMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return { '0001_jobs_and_output': initialSchema(this.dialect) };
  }
}

/**
 * Brings the schema to the latest version. On PostgreSQL Kysely's migrator holds an advisory lock
 * for the whole run, so any number of processes may start at once: one migrates, the others wait
 * and then find nothing to do.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: StoreDialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new StoreMigrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`store migration ${failed ?? '(setup)'} failed: ${detail}`, { cause: error });
  }
}
