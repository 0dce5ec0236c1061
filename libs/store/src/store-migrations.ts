import { Kysely, Migration, MigrationProvider, MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely';
import { initialSchema } from './migrations/0001-jobs-and-output';
import { eventsLinesAndRunners } from './migrations/0002-events-lines-and-runners';
import { openJobsByUser } from './migrations/0003-open-jobs-by-user';
import { cancelReason } from './migrations/0004-cancel-reason';
import { jobOutbox } from './migrations/0005-job-outbox';
import { idempotencyFingerprint } from './migrations/0006-idempotency-fingerprint';
import { requestId } from './migrations/0007-request-id';
import { apiTokens } from './migrations/0008-api-tokens';
import { webhooks } from './migrations/0009-webhooks';
import { relaunchOf } from './migrations/0010-relaunch-of';
import { launchPath } from './migrations/0011-launch-path';
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

/** Names of the migrations, oldest first (for specs that start from an older schema). */
export const STORE_MIGRATIONS = [
  '0001_jobs_and_output',
  '0002_events_lines_and_runners',
  '0003_open_jobs_by_user',
  '0004_cancel_reason',
  '0005_job_outbox',
  '0006_idempotency_fingerprint',
  '0007_request_id',
  '0008_api_tokens',
  '0009_webhooks',
  '0010_relaunch_of',
  '0011_launch_path',
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
      '0008_api_tokens': apiTokens(),
      '0009_webhooks': webhooks(this.dialect),
      '0010_relaunch_of': relaunchOf(),
      '0011_launch_path': launchPath(),
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
