import { ColumnType, Generated } from 'kysely';

/**
 * Epoch milliseconds, stored as BIGINT in both dialects so ordering is numeric everywhere.
 * better-sqlite3 reads it back as a number, pg reads INT8 as a string: callers use Number().
 */
type EpochMs = ColumnType<number | string, number, number>;
type NullableEpochMs = ColumnType<number | string | null, number | null, number | null>;

/** Row shapes of the store's tables, as Kysely sees them (snake_case, as in the schema). */
export interface JobsTable {
  id: string;
  kind: string;
  status: string;
  reason: string | null;
  return_code: number | null;
  submitted_by: string;
  inventory: string | null;
  /** The JobSpec as JSON text (portable: no JSON column type needed in SQLite). */
  spec: string;
  runner_id: string | null;
  created_at: EpochMs;
  started_at: NullableEpochMs;
  finished_at: NullableEpochMs;
}

export interface JobOutputTable {
  /** Monotonic per table; the order chunks were appended in. pg returns INT8 as a string. */
  id: Generated<number | string>;
  job_id: string;
  chunk: string;
}

export interface StoreDatabase {
  jobs: JobsTable;
  job_output: JobOutputTable;
}

/** The two SQL engines the store runs on. Only connection setup and one column type differ. */
export type StoreDialect = 'sqlite' | 'postgres';
