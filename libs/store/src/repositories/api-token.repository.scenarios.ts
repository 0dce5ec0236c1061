import { ApiTokenScope } from '@flansible/contracts';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { NewApiToken } from '../api-token-records';
import { JobStore } from '../job-store';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

const t = (seconds: number) => new Date(Date.UTC(2033, 0, 1) + seconds * 1000);

function newToken(overrides: Partial<NewApiToken> = {}): NewApiToken {
  return {
    id: randomUUID(),
    user: 'alice',
    name: 'ops portal',
    scope: ApiTokenScope.Run,
    secretHash: createHash('sha256').update(randomBytes(32)).digest('hex'),
    createdAt: t(0),
    expiresAt: t(90 * 86_400),
    ...overrides,
  };
}

/** ApiTokenRepository: issue, look up by hash, list, revoke, last use. */
export function describeApiTokenRepository(backend: StoreBackend): void {
  describe(`API tokens on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another gateway. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

    it('finds a token by its hash from any store, with every field as issued, and nothing by another hash', async () => {
      const token = newToken({ name: 'nightly deploy ✓', scope: ApiTokenScope.Read });
      await store.createApiToken(token);
      expect(await other.findApiTokenByHash(token.secretHash)).toEqual({ ...token, lastUsedAt: null });
      expect(await other.findApiTokenByHash(newToken().secretHash)).toBeUndefined();
    });

    it('refuses a second token with the same hash', async () => {
      const token = newToken();
      await store.createApiToken(token);
      // Matched by message: better-sqlite3's errors may come from another test file's realm, which toThrow() does not count.
      await expect(other.createApiToken(newToken({ secretHash: token.secretHash }))).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
    });

    it("lists one user's tokens newest first, or everyone's", async () => {
      const user = `lister-${randomUUID()}`;
      const older = newToken({ user, createdAt: t(1) });
      const newer = newToken({ user, createdAt: t(2) });
      const someoneElse = newToken({ user: `${user}-other`, createdAt: t(3) });
      for (const token of [older, someoneElse, newer]) await store.createApiToken(token);

      expect((await other.listApiTokens({ user })).map((r) => r.id)).toEqual([newer.id, older.id]);
      expect(await other.listApiTokens({ user: `${user}-nobody` })).toEqual([]);
      const all = (await other.listApiTokens({})).map((r) => r.id);
      expect(all).toEqual(expect.arrayContaining([older.id, newer.id, someoneElse.id]));
      expect(all.indexOf(someoneElse.id)).toBeLessThan(all.indexOf(newer.id));
    });

    it("revokes a token for its owner or for anyone unnamed, never another user's, and the other store no longer finds it", async () => {
      const token = newToken({ user: 'bob' });
      await store.createApiToken(token);
      expect(await store.revokeApiToken(token.id, 'alice')).toBe(false);
      expect(await other.findApiTokenByHash(token.secretHash)).toBeDefined();
      expect(await store.revokeApiToken(token.id, 'bob')).toBe(true);
      expect(await other.findApiTokenByHash(token.secretHash)).toBeUndefined();
      expect(await other.revokeApiToken(token.id, 'bob')).toBe(false);

      const byAdmin = newToken({ user: 'carol' });
      await store.createApiToken(byAdmin);
      expect(await other.revokeApiToken(byAdmin.id)).toBe(true);
      expect(await store.revokeApiToken(randomUUID())).toBe(false);
      expect((await store.listApiTokens({})).map((r) => r.id)).not.toEqual(expect.arrayContaining([token.id]));
    });

    it('records a use only when none is recorded since the given time', async () => {
      const token = newToken();
      await store.createApiToken(token);
      const lastUsed = async () => (await other.findApiTokenByHash(token.secretHash))?.lastUsedAt;

      await store.recordApiTokenUse(token.id, t(600), t(540));
      expect(await lastUsed()).toEqual(t(600));
      // Within the minute: already recorded, not written again (two gateways at once write once).
      await Promise.all([store.recordApiTokenUse(token.id, t(630), t(570)), other.recordApiTokenUse(token.id, t(636), t(576))]);
      expect(await lastUsed()).toEqual(t(600));
      await other.recordApiTokenUse(token.id, t(720), t(660));
      expect(await lastUsed()).toEqual(t(720));
      // A token revoked meanwhile: nothing to update, no error.
      await store.revokeApiToken(token.id);
      await expect(store.recordApiTokenUse(token.id, t(800), t(740))).resolves.toBeUndefined();
    });
  });
}
