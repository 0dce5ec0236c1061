import {
  ColumnDefinitionBuilder,
  Kysely,
  Migration,
  MigrationProvider,
  MigrationResultSet,
  Migrator,
  NO_MIGRATIONS,
} from 'kysely';
import { EMPTY_OUTPUT, placeChunk } from './output-lines';
import { StoreDialect } from './store-database';

/** Named so an operator sharing a PostgreSQL database can tell whose bookkeeping tables these are. */
export const MIGRATION_TABLE = 'flansible_migration';
export const MIGRATION_LOCK_TABLE = 'flansible_migration_lock';

/*
 * Migrations live in code (nothing is read from disk at run time, so the built app needs no extra
 * files). Every statement uses IF NOT EXISTS (or, for ADD COLUMN, which SQLite cannot guard, checks
 * the columns first): Kysely cannot wrap SQLite DDL in a transaction, so a migration interrupted
 * half-way must be able to run again and finish. Never edit a released
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

type ColumnType = 'text' | 'integer' | 'bigint';

interface NewColumn {
  name: string;
  type: ColumnType;
  build?: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
}

/**
 * ALTER TABLE ADD COLUMN for the columns not there yet. SQLite has no ADD COLUMN IF NOT EXISTS, and
 * a SQLite migration is not one transaction, so a re-run after an interruption must skip what the
 * first run already added.
 */
async function addMissingColumns(db: Kysely<any>, table: string, columns: NewColumn[]): Promise<void> {
  const tables = await db.introspection.getTables();
  const existing = new Set(tables.find((t) => t.name === table)?.columns.map((c) => c.name) ?? []);
  for (const column of columns) {
    if (existing.has(column.name)) continue;
    await db.schema
      .alterTable(table)
      .addColumn(column.name, column.type, column.build ?? ((c) => c))
      .execute();
  }
}

/** One transaction: the migrator's own on PostgreSQL (transactional DDL), a new one on SQLite. */
function inTransaction(db: Kysely<any>, work: (trx: Kysely<any>) => Promise<void>): Promise<void> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/**
 * Numbers the lines of output written before migration 0002 (end_line still 0: a stored chunk is
 * never empty, so a numbered one ends on line 1 or later). Each job is renumbered from its first
 * chunk in one transaction, so an interrupted run leaves no job half done.
 */
async function numberExistingOutput(db: Kysely<any>): Promise<void> {
  const pending = await db.selectFrom('job_output').select('job_id').distinct().where('end_line', '=', 0).execute();
  for (const { job_id: jobId } of pending as { job_id: string }[]) {
    await inTransaction(db, async (trx) => {
      const chunks = (await trx
        .selectFrom('job_output')
        .select(['id', 'chunk'])
        .where('job_id', '=', jobId)
        .orderBy('id')
        .execute()) as { id: number | string; chunk: string }[];
      let state = EMPTY_OUTPUT;
      for (const { id, chunk } of chunks) {
        const placed = placeChunk(state, chunk);
        await trx
          .updateTable('job_output')
          .set({ start_line: placed.startLine, end_line: placed.endLine })
          .where('id', '=', id)
          .execute();
        state = placed.after;
      }
      await trx
        .updateTable('jobs')
        .set({ output_lines: state.lines, output_line_open: state.lastLineOpen ? 1 : 0 })
        .where('id', '=', jobId)
        .execute();
    });
  }
}

/**
 * Priorities, idempotent submission, cancel requests, line-numbered output, structured events and
 * runner heartbeats.
 */
function eventsLinesAndRunners(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [
        { name: 'priority', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'idempotency_key', type: 'text' },
        { name: 'cancel_requested_at', type: 'bigint' },
        { name: 'output_lines', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'output_line_open', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'event_count', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
      ]);
      // NULL keys never collide (both engines treat NULLs in a unique index as distinct).
      await db.schema
        .createIndex('jobs_submitted_by_idempotency_key_uq')
        .ifNotExists()
        .unique()
        .on('jobs')
        .columns(['submitted_by', 'idempotency_key'])
        .execute();
      // History filters, newest first and keyset-paginated on (created_at, id) within each.
      for (const column of ['submitted_by', 'inventory', 'kind']) {
        await db.schema
          .createIndex(`jobs_${column}_created_at_id_idx`)
          .ifNotExists()
          .on('jobs')
          .columns([column, 'created_at', 'id'])
          .execute();
      }

      await addMissingColumns(db, 'job_output', [
        { name: 'start_line', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'end_line', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
      ]);
      // readOutputLines: a range scan on end_line within the job; id settles ties in order.
      await db.schema
        .createIndex('job_output_job_id_end_line_idx')
        .ifNotExists()
        .on('job_output')
        .columns(['job_id', 'end_line', 'id'])
        .execute();
      await numberExistingOutput(db);

      await db.schema
        .createTable('job_events')
        .ifNotExists()
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('counter', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('host', 'text')
        .addColumn('task', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_events_pk', ['job_id', 'counter'])
        .execute();
      // Events of one host, and of some types (the stats event for the summary), in counter order.
      await db.schema
        .createIndex('job_events_job_id_host_counter_idx')
        .ifNotExists()
        .on('job_events')
        .columns(['job_id', 'host', 'counter'])
        .execute();
      await db.schema
        .createIndex('job_events_job_id_type_counter_idx')
        .ifNotExists()
        .on('job_events')
        .columns(['job_id', 'type', 'counter'])
        .execute();

      await db.schema
        .createTable('runners')
        .ifNotExists()
        .addColumn('runner_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('runners').ifExists().execute();
      await db.schema.dropTable('job_events').ifExists().execute();
      await db.schema.dropIndex('job_output_job_id_end_line_idx').ifExists().execute();
      await db.schema.alterTable('job_output').dropColumn('end_line').execute();
      await db.schema.alterTable('job_output').dropColumn('start_line').execute();
      for (const index of [
        'jobs_kind_created_at_id_idx',
        'jobs_inventory_created_at_id_idx',
        'jobs_submitted_by_created_at_id_idx',
        'jobs_submitted_by_idempotency_key_uq',
      ]) {
        await db.schema.dropIndex(index).ifExists().execute();
      }
      const added = ['event_count', 'output_line_open', 'output_lines', 'cancel_requested_at', 'idempotency_key', 'priority'];
      for (const column of added) await db.schema.alterTable('jobs').dropColumn(column).execute();
    },
  };
}

/** countOpenJobs on every submission: WHERE submitted_by = ? AND status IN (queued, running), off the index. */
function openJobsByUser(): Migration {
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

/** The reason a cancel request names, kept with it: a runner acts on the store's request, not on a bus message. */
function cancelReason(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').addColumn('cancel_reason', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('cancel_reason').execute();
    },
  };
}

/**
 * The outbox flag: a row per job whose message the broker confirmed, so that a queued job whose
 * gateway died before the confirm (no row) is found and published by a reconciler. A table of its
 * own, not a column: marking a job is then an INSERT that takes only a key-share lock on the job
 * row, which a runner's claim (FOR NO KEY UPDATE SKIP LOCKED) neither waits for nor skips; an
 * UPDATE of the job row, just as its message reaches a runner, would make that claim skip the job.
 */
function jobOutbox(): Migration {
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

/**
 * What an idempotency key was first sent with, so a different request under the same key is
 * refused, and whether that first submission is still under way (a retry then waits or gets 409).
 */
function idempotencyFingerprint(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [
        { name: 'idempotency_fingerprint', type: 'text' },
        { name: 'idempotency_pending_until', type: 'bigint' },
      ]);
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const column of ['idempotency_pending_until', 'idempotency_fingerprint']) await db.schema.alterTable('jobs').dropColumn(column).execute();
    },
  };
}

/** The submitting HTTP request's id (X-Request-Id), so runner log lines of the job carry it. */
function requestId(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [{ name: 'request_id', type: 'text' }]);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('request_id').execute();
    },
  };
}

/** Names of the migrations, oldest first (for specs that start from an older schema). */
export const STORE_MIGRATIONS = [
  '0001_jobs_and_output',
  '0002_events_lines_and_runners',
  '0003_open_jobs_by_user',
  '0004_cancel_reason',
  '0005_job_outbox',
  '0006_idempotency_fingerprint',
  '0007_request_id',
] as const;
export type StoreMigrationName = (typeof STORE_MIGRATIONS)[number];

/** The store's schema history, in code. */
export class StoreMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}

  async getMigrations(): Promise<Record<StoreMigrationName, Migration>> {
    return {
      '0001_jobs_and_output': initialSchema(this.dialect),
      '0002_events_lines_and_runners': eventsLinesAndRunners(),
      '0003_open_jobs_by_user': openJobsByUser(),
      '0004_cancel_reason': cancelReason(),
      '0005_job_outbox': jobOutbox(),
      '0006_idempotency_fingerprint': idempotencyFingerprint(),
      '0007_request_id': requestId(),
    };
  }
}

/**
 * Brings the schema to the latest version. On PostgreSQL Kysely's migrator holds an advisory lock
 * for the whole run, so any number of processes may start at once: one migrates, the others wait
 * and then find nothing to do.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: StoreDialect): Promise<void> {
  await runMigrator(db, dialect, (migrator) => migrator.migrateToLatest());
}

/** Brings the schema to (up or down) the given migration; specs use it to start from an older schema. */
export async function migrateTo(
  db: Kysely<any>,
  dialect: StoreDialect,
  target: StoreMigrationName | typeof NO_MIGRATIONS,
): Promise<void> {
  await runMigrator(db, dialect, (migrator) => migrator.migrateTo(target));
}

async function runMigrator(
  db: Kysely<any>,
  dialect: StoreDialect,
  run: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new StoreMigrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await run(migrator);
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`store migration ${failed ?? '(setup)'} failed: ${detail}`, { cause: error });
  }
}
