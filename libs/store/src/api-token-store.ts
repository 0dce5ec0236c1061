import { ApiTokenFilter, ApiTokenRecord, NewApiToken } from './api-token-records';

/**
 * API tokens as the gateway sees them (also their DI token): issued, looked up by hash on every
 * request that presents one, listed and revoked. Revoking deletes the row, so no gateway can
 * accept the token a moment later: each reads the store for every bearer request.
 */
export abstract class ApiTokenStore {
  abstract createApiToken(token: NewApiToken): Promise<void>;
  /** The token with this hash, expired or not (the caller says why it refuses), or undefined. */
  abstract findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined>;
  /** Tokens newest first: one user's, or everyone's. */
  abstract listApiTokens(filter: ApiTokenFilter): Promise<ApiTokenRecord[]>;
  /** Deletes the token; only when it belongs to `user`, if given. True when a token was deleted. */
  abstract revokeApiToken(id: string, user?: string): Promise<boolean>;
  /**
   * Records a use at `at`, unless one on or after `recordedSince` is already recorded: one write a
   * minute or so per token, however many requests and gateways use it.
   */
  abstract recordApiTokenUse(id: string, at: Date, recordedSince: Date): Promise<void>;
}
