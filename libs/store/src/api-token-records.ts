import { ApiTokenScope } from '@flansible/contracts';

/** An API token as the store keeps it: never the token itself, only its hash. */
export interface ApiTokenRecord {
  id: string;
  /** The rbac.json user the token acts as. */
  user: string;
  /** The owner's label for it ("ops portal"). */
  name: string;
  scope: ApiTokenScope;
  /** SHA-256 of the token, hex: what a presented token is looked up by. */
  secretHash: string;
  createdAt: Date;
  expiresAt: Date;
  /** When it last authenticated a request, to the minute (null: never). */
  lastUsedAt: Date | null;
}

export type NewApiToken = Omit<ApiTokenRecord, 'lastUsedAt'>;

/** Whose tokens to list: one user's, or (no user) everyone's. */
export interface ApiTokenFilter {
  user?: string;
}
