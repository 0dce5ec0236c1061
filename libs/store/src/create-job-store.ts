import { FlansibleConfig } from '@flansible/config';
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { join } from 'node:path';
import { Pool } from 'pg';
import { JobStore } from './job-store';
import { KyselyJobStore } from './kysely-job-store';
import { preparePrivateSqliteFile } from './private-sqlite-files';
import { StatementCachingSqlite } from './sqlite-statement-cache';
import { StoreDatabase, StoreDialect } from './store-database';

/** The embedded deployment's database file, under the data directory. */
export const SQLITE_FILE_NAME = 'flansible.sqlite';

const logger = new Logger('JobStore');

/**
 * The store for this configuration: PostgreSQL when databaseUrl is set (distributed), otherwise
 * SQLite at <dataDir>/flansible.sqlite (embedded; the directory is created 0700, the file 0600). Not yet migrated:
 * call migrate() before use (StoreModule does). Usable outside Nest (tests, bench).
 */
export function createJobStore(config: Pick<FlansibleConfig, 'dataDir' | 'databaseUrl'>): JobStore {
  return config.databaseUrl ? createPostgresJobStore(config.databaseUrl) : createSqliteJobStore(config.dataDir);
}

/** The configured database, unwrapped: for specs that need to seed rows in bulk or inspect plans. */
export function openStoreDatabase(config: Pick<FlansibleConfig, 'dataDir' | 'databaseUrl'>): {
  db: Kysely<StoreDatabase>;
  dialect: StoreDialect;
} {
  return config.databaseUrl
    ? { db: openPostgresDatabase(config.databaseUrl), dialect: 'postgres' }
    : { db: openSqliteDatabase(config.dataDir), dialect: 'sqlite' };
}

export function createSqliteJobStore(dataDir: string): KyselyJobStore {
  return new KyselyJobStore(openSqliteDatabase(dataDir), 'sqlite');
}

export function createPostgresJobStore(databaseUrl: string): KyselyJobStore {
  return new KyselyJobStore(openPostgresDatabase(databaseUrl), 'postgres');
}

function openSqliteDatabase(dataDir: string): Kysely<StoreDatabase> {
  const file = join(dataDir, SQLITE_FILE_NAME);
  preparePrivateSqliteFile(dataDir, file);
  const database = new Database(file);
  // WAL: readers (status, output, stream) never block the runner's writes.
  database.pragma('journal_mode = WAL');
  // Wait for a lock instead of failing at once should another connection hold it.
  database.pragma('busy_timeout = 5000');
  // SQLite leaves foreign keys off per connection by default; deleteJob relies on the cascade.
  database.pragma('foreign_keys = ON');
  // Safe with WAL (no corruption); only the last commits may be lost on power failure.
  database.pragma('synchronous = NORMAL');
  // Refresh the planner's statistics where they are missing or stale (quick: SQLite samples). Without
  // them a history page filtered on several statuses sorts every match instead of walking the
  // (created_at, id) index. The store repeats it after each purge.
  database.pragma('optimize = 0x10002');
  logger.log(`SQLite store at ${file}`);
  return new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: new StatementCachingSqlite(database) }) });
}

function openPostgresDatabase(databaseUrl: string): Kysely<StoreDatabase> {
  const pool = new Pool({
    connectionString: databaseUrl,
    // A database that is down fails requests quickly rather than hanging them.
    connectionTimeoutMillis: 10_000,
    application_name: 'flansible',
  });
  const where = describePostgresUrl(databaseUrl);
  // An idle client losing its connection emits on the pool; unhandled, that would end the process.
  // The pool replaces the client on the next query.
  const lost = (err: Error): void => logger.warn(`PostgreSQL connection to ${where} lost: ${err.message}`);
  pool.on('error', lost);
  // A client checked out between two statements (a transaction) emits on itself instead, and the
  // pool listens only to idle ones: without this a database restart could end the gateway. Its
  // next query then fails, and the pool discards it when it comes back.
  pool.on('connect', (client) => client.on('error', lost));
  logger.log(`PostgreSQL store at ${where}`);
  return new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/** host:port/database, never the password. */
function describePostgresUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.host}${url.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
