import type { Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept: the store's queries, and multi-row inserts of the usual sizes. */
const MAX_STATEMENTS = 256;

/**
 * The better-sqlite3 connection as Kysely's SqliteDialect sees it, except that a statement is
 * prepared once per distinct SQL text and then reused: Kysely asks for `prepare` on every query,
 * and SQLite's prepare (parse and plan) cost a job with a busy output more CPU than running its
 * statements. A statement still iterating (`busy`: a streamed query) is not handed out twice;
 * that caller gets a fresh one. Least recently used statements go first past MAX_STATEMENTS.
 */
export class StatementCachingSqlite implements SqliteDatabase {
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly database: Database,
    private readonly maxStatements = MAX_STATEMENTS,
  ) {}

  prepare(sql: string): Statement {
    const cached = this.statements.get(sql);
    if (cached) {
      if (cached.busy) return this.database.prepare(sql);
      this.statements.delete(sql); // re-inserted: now the most recently used
      this.statements.set(sql, cached);
      return cached;
    }
    const statement = this.database.prepare(sql);
    this.statements.set(sql, statement);
    if (this.statements.size > this.maxStatements) this.statements.delete(this.statements.keys().next().value!);
    return statement;
  }

  close(): void {
    this.statements.clear();
    this.database.close();
  }
}
