import { ApiTokenScope } from '@flansible/contracts';
import { Kysely, Selectable } from 'kysely';
import { ApiTokenFilter, ApiTokenRecord, NewApiToken } from '../api-token-records';
import { ApiTokensTable, StoreDatabase } from '../store-database';
import { storableText, toDate } from './job-rows';

/** API tokens (api_tokens), by id and by the hash of the token. */
export class ApiTokenRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  async create(token: NewApiToken): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: token.id,
        user_name: token.user,
        name: storableText(token.name),
        scope: token.scope,
        secret_hash: token.secretHash,
        created_at: token.createdAt.getTime(),
        expires_at: token.expiresAt.getTime(),
        last_used_at: null,
      })
      .execute();
  }

  async findByHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
    return row && toTokenRecord(row);
  }

  async list(filter: ApiTokenFilter): Promise<ApiTokenRecord[]> {
    const { user } = filter;
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .$if(user !== undefined, (query) => query.where('user_name', '=', user!))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toTokenRecord);
  }

  async revoke(id: string, user?: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .$if(user !== undefined, (query) => query.where('user_name', '=', user!))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async recordUse(id: string, at: Date, recordedSince: Date): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: at.getTime() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', recordedSince.getTime())]))
      .execute();
  }
}

function toTokenRecord(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  return {
    id: row.id,
    user: row.user_name,
    name: row.name,
    scope: row.scope as ApiTokenScope,
    secretHash: row.secret_hash,
    createdAt: new Date(Number(row.created_at)),
    expiresAt: new Date(Number(row.expires_at)),
    lastUsedAt: toDate(row.last_used_at),
  };
}
