import { ColumnDefinitionBuilder, Kysely } from 'kysely';

type ColumnType = 'text' | 'integer' | 'bigint';

export interface NewColumn {
  name: string;
  type: ColumnType;
  build?: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
}

/**
 * ALTER TABLE ADD COLUMN for the columns not there yet. SQLite has no ADD COLUMN IF NOT EXISTS, and
 * a SQLite migration is not one transaction, so a re-run after an interruption must skip what the
 * first run already added.
 */
export async function addMissingColumns(db: Kysely<any>, table: string, columns: NewColumn[]): Promise<void> {
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
export function inTransaction(db: Kysely<any>, work: (trx: Kysely<any>) => Promise<void>): Promise<void> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
