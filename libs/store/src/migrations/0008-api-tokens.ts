import { Kysely, Migration } from 'kysely';

/**
 * API tokens: a row per token, holding the SHA-256 of the token (never the token), unique, which
 * is what a presented token is looked up by; and the owner's list, newest first.
 */
export function apiTokens(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('api_tokens')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('api_tokens_user_created_at_idx')
        .ifNotExists()
        .on('api_tokens')
        .columns(['user_name', 'created_at'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('api_tokens').ifExists().execute();
    },
  };
}
