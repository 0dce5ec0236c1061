import { Controller, Get, INestApplication, Logger, Post } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock, FlansibleConfig } from '@flansible/config';
import { ApiTokenScope } from '@flansible/contracts';
import { ApiTokenFilter, ApiTokenRecord, ApiTokenStore, NewApiToken } from '@flansible/store';
import { FakeClock, basicHeaderSpellings } from '@flansible/testing';
import { generateApiToken, hashApiToken } from './api-token';
import { RequiresScope } from './api-token-scope';
import { AuthenticatedUser } from './authenticated-user';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy, TOKEN_USE_PRECISION_MS } from './bearer.strategy';
import { CredentialsGuard } from './credentials.guard';
import { CurrentUser } from './current-user.decorator';
import { LOGIN_THROTTLE_OPTIONS, LoginThrottle } from './login-throttle';
import { hashPassword } from './password-hash';
import { Public } from './public.decorator';
import { RBAC_SERVICE_OPTIONS, RbacService } from './rbac.service';

@Controller()
class ProbeController {
  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser) {
    return user;
  }

  @Public()
  @Get('open')
  open() {
    return { ok: true };
  }

  /** Changes something: needs `run` without saying so. */
  @Post('change')
  change() {
    return { changed: true };
  }

  @RequiresScope(ApiTokenScope.Read)
  @Post('search')
  search() {
    return { found: true };
  }

  @RequiresScope(ApiTokenScope.Run)
  @Get('launch')
  launch() {
    return { launched: true };
  }
}

/** ApiTokenStore in memory, counting the writes of last use. */
class MemoryTokenStore extends ApiTokenStore {
  readonly rows = new Map<string, ApiTokenRecord>();
  useWrites = 0;

  async createApiToken(token: NewApiToken): Promise<void> {
    this.rows.set(token.id, { ...token, lastUsedAt: null });
  }
  async findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    return [...this.rows.values()].find((row) => row.secretHash === secretHash);
  }
  async listApiTokens(filter: ApiTokenFilter): Promise<ApiTokenRecord[]> {
    return [...this.rows.values()].filter((row) => filter.user === undefined || row.user === filter.user);
  }
  async revokeApiToken(id: string): Promise<boolean> {
    return this.rows.delete(id);
  }
  async recordApiTokenUse(id: string, at: Date, recordedSince: Date): Promise<void> {
    const row = this.rows.get(id);
    if (!row || (row.lastUsedAt && row.lastUsedAt >= recordedSince)) return;
    this.useWrites += 1;
    row.lastUsedAt = at;
  }
}

describe('CredentialsGuard over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flansible-guard-'));
  const rbacFile = join(dir, 'rbac.json');
  let app: INestApplication;
  let base: string;
  const clock = new FakeClock();

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const get = (path: string, authorization?: string) => fetch(base + path, { headers: authorization ? { authorization } : {} });
  const post = (path: string, authorization: string) => fetch(base + path, { method: 'POST', headers: { authorization } });
  const tokens = new MemoryTokenStore();
  let issued = 0;
  /** Issues a token as the gateway does, and answers it. */
  const issue = async (user: string, scope: ApiTokenScope, lifetimeMs = 86_400_000) => {
    const token = generateApiToken();
    const now = clock.now();
    const id = `token-${++issued}`;
    await tokens.createApiToken({ id, user, name: id, scope, secretHash: hashApiToken(token), createdAt: new Date(now), expiresAt: new Date(now + lifetimeMs) });
    return { id, token, bearer: `Bearer ${token}` };
  };

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    writeFileSync(
      rbacFile,
      JSON.stringify({
        rbac: [
          { user: 'alice', password: await hashPassword('pass-word', { ln: 10 }), inventories: ['dev'] },
          { user: 'bob', password: await hashPassword('bob-pw', { ln: 10 }), inventories: [] },
          { user: 'carol', password: await hashPassword('carol-pw', { ln: 10 }), inventories: [] },
          { user: 'dave', password: 'dave-plain-pw', inventories: [] },
          { user: 'erin', password: await hashPassword('erin-pw', { ln: 10 }), inventories: [] },
          { user: 'frank', password: await hashPassword('frank-pw', { ln: 10 }), inventories: [] },
        ],
      }),
    );
    const moduleRef = await Test.createTestingModule({
      imports: [PassportModule],
      controllers: [ProbeController],
      providers: [
        { provide: FlansibleConfig, useValue: { rbacFile, host: '127.0.0.1' } },
        { provide: Clock, useValue: clock },
        { provide: RBAC_SERVICE_OPTIONS, useValue: { watch: false } },
        { provide: LOGIN_THROTTLE_OPTIONS, useValue: { perUserAndAddress: 3, perAddress: 20, firstBlockMs: 400 } },
        RbacService,
        { provide: ApiTokenStore, useValue: tokens },
        BasicStrategy,
        BearerStrategy,
        LoginThrottle,
        { provide: APP_GUARD, useClass: CredentialsGuard },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets public routes through without credentials', async () => {
    expect((await get('/open')).status).toBe(200);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Bearer abc'],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['an empty password', basic('alice', '')],
    ['not base64', 'Basic !!!'],
  ])('answers 401 for %s', async (_what, authorization) => {
    expect((await get('/me', authorization)).status).toBe(401);
  });

  it('accepts the right password and leaves the user on the request', async () => {
    const res = await get('/me', basic('alice', 'pass-word'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'alice', isAdmin: false, inventories: ['dev'], limits: { become: true, git: false } });
    expect((await get('/me', basic('alice', 'pa'))).status).toBe(401);
  });

  it('answers 429 with Retry-After after repeated failures, even to the right password, then lets the user in', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/me', basic('bob', `guess-${i}`))).status).toBe(401);
    const blocked = await get('/me', basic('bob', 'bob-pw'));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('1');
    expect(await blocked.json()).toMatchObject({ statusCode: 429, message: 'Too many failed logins; try again in 1 s' });
    // Another user from the same address is not affected.
    expect((await get('/me', basic('alice', 'pass-word'))).status).toBe(200);
    clock.advance(450);
    expect((await get('/me', basic('bob', 'bob-pw'))).status).toBe(200);
    // The success reset the counter: the full allowance again.
    for (let i = 0; i < 3; i++) expect((await get('/me', basic('bob', `guess-${i}`))).status).toBe(401);
  });

  it("counts a burst of identical logins (a client's parallel requests) as one attempt, but every parallel guess", async () => {
    // erin has never logged in: every request waits for the one slow hash check.
    const burst = await Promise.all(Array.from({ length: 12 }, () => get('/me', basic('erin', 'erin-pw'))));
    expect(burst.map((res) => res.status)).toEqual(Array(12).fill(200));
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => get('/me', basic('frank', `guess-${i}`))));
    const statuses = guesses.map((res) => res.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });

  /** Spellings of one header that passport-http reads as the same user and password. */
  const spellings = (user: string, password: string): [string, string][] => [
    ...basicHeaderSpellings(user, password),
    ['a scheme that only contains "basic"', `XBasicY ${Buffer.from(`${user}:${password}`).toString('base64')}`],
  ];

  it('lets in the spellings passport-http accepts, so blocking them below means something', async () => {
    for (const [what, authorization] of spellings('alice', 'pass-word')) {
      expect([what, (await get('/me', authorization)).status]).toEqual([what, 200]);
    }
  });

  it('counts wrong passwords in headers with trailing junk towards the block', async () => {
    for (const [i, [what, authorization]] of spellings('carol', 'wrong').slice(0, 3).entries()) {
      expect([what, i, (await get('/me', authorization)).status]).toEqual([what, i, 401]);
    }
    const blocked = await get('/me', basic('carol', 'carol-pw'));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('1');
  });

  it('answers 429 with Retry-After to every spelling of a blocked user, right password or not', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/me', basic('dave', `guess-${i}`))).status).toBe(401);
    for (const [what, authorization] of [...spellings('dave', 'dave-plain-pw'), ...spellings('dave', 'another-guess')]) {
      const res = await get('/me', authorization);
      expect([what, res.status, res.headers.get('retry-after')]).toEqual([what, 429, '1']);
    }
    expect((await get('/me', basic('dave', 'dave-plain-pw'))).status).toBe(429);
  });

  describe('with API tokens (Authorization: Bearer)', () => {
    /** Moves past the throttle's window: failures of the tests before no longer count. */
    const forgetFailures = () => clock.advance(6 * 60_000);
    beforeAll(forgetFailures);

    it('acts as the token\'s user with the rights rbac.json gives now, in any case of the scheme', async () => {
      const { id, token, bearer } = await issue('alice', ApiTokenScope.Run);
      for (const authorization of [bearer, `bearer ${token}`, `BEARER\t${token}`]) {
        const res = await get('/me', authorization);
        expect([authorization, res.status]).toEqual([authorization, 200]);
        expect(await res.json()).toMatchObject({ name: 'alice', isAdmin: false, inventories: ['dev'], token: { id, scope: 'run' } });
      }
    });

    it('answers 401 saying why: malformed, unknown, expired, or its user is gone', async () => {
      const { token } = await issue('alice', ApiTokenScope.Run);
      const expiring = await issue('alice', ApiTokenScope.Run, 1_000);
      const ghost = await issue('ghost', ApiTokenScope.Run);
      clock.advance(1_000);
      const cases: [string, string, RegExp][] = [
        ['no token', 'Bearer', /^Malformed bearer token/],
        ['a short one', 'Bearer abc', /^Malformed bearer token/],
        ['one character too many', `Bearer ${token}x`, /^Malformed bearer token/],
        ['junk after it', `Bearer ${token} x`, /^Malformed bearer token/],
        ['another prefix', `Bearer xyz_${token.slice(4)}`, /^Malformed bearer token/],
        ['a well-formed token never issued', `Bearer ${generateApiToken()}`, /^Unknown or revoked API token$/],
        ['an expired one', expiring.bearer, /^API token expired at \d{4}-/],
        ['one whose user is not in rbac.json', ghost.bearer, /^API token of a user no longer in rbac\.json \(ghost\)$/],
      ];
      for (const [what, authorization, message] of cases) {
        const res = await get('/me', authorization);
        const body = (await res.json()) as { message: string };
        expect([what, res.status, message.test(body.message) ? 'says why' : body.message]).toEqual([what, 401, 'says why']);
      }
    });

    it('narrows a token by its scope: read refuses what changes, run and passwords do not', async () => {
      const read = await issue('alice', ApiTokenScope.Read);
      const run = await issue('alice', ApiTokenScope.Run);
      const answers = async (authorization: string) => [
        (await get('/me', authorization)).status,
        (await post('/change', authorization)).status,
        (await post('/search', authorization)).status,
        (await get('/launch', authorization)).status,
      ];
      expect(await answers(read.bearer)).toEqual([200, 403, 201, 403]);
      expect(await answers(run.bearer)).toEqual([200, 201, 201, 200]);
      expect(await answers(basic('alice', 'pass-word'))).toEqual([200, 201, 201, 200]);
      const refused = await post('/change', read.bearer);
      expect(await refused.json()).toMatchObject({
        statusCode: 403,
        message: 'This API token has scope "read": POST /change needs a token with scope "run"',
      });
    });

    it('records the last use at most once a minute', async () => {
      const { id, bearer } = await issue('alice', ApiTokenScope.Read);
      const before = tokens.useWrites;
      for (let i = 0; i < 3; i++) expect((await get('/me', bearer)).status).toBe(200);
      expect(tokens.useWrites).toBe(before + 1);
      expect(tokens.rows.get(id)?.lastUsedAt).toEqual(new Date(clock.now()));
      clock.advance(TOKEN_USE_PRECISION_MS + 1);
      expect((await get('/me', bearer)).status).toBe(200);
      expect(tokens.useWrites).toBe(before + 2);
    });

    it('answers 429 to a token that keeps failing, but not to other tokens from the address, nor to bursts of good ones', async () => {
      forgetFailures();
      const revoked = await issue('alice', ApiTokenScope.Run);
      await tokens.revokeApiToken(revoked.id);
      for (let i = 0; i < 3; i++) expect((await get('/me', revoked.bearer)).status).toBe(401);
      const blocked = await get('/me', revoked.bearer);
      expect([blocked.status, blocked.headers.get('retry-after')]).toEqual([429, '1']);
      expect(await blocked.json()).toMatchObject({ message: 'Too many failed logins; try again in 1 s' });

      const good = await issue('bob', ApiTokenScope.Read);
      const burst = await Promise.all(Array.from({ length: 12 }, () => get('/me', good.bearer)));
      expect(burst.map((res) => res.status)).toEqual(Array(12).fill(200));
    });

    it('counts bad tokens towards the limit of their address, which Basic logins share', async () => {
      forgetFailures();
      const good = await issue('bob', ApiTokenScope.Read);
      for (let i = 0; i < 20; i++) expect((await get('/me', `Bearer ${generateApiToken()}`)).status).toBe(401);
      expect((await get('/me', good.bearer)).status).toBe(429);
      expect((await get('/me', basic('bob', 'bob-pw'))).status).toBe(429);
      clock.advance(450);
      expect((await get('/me', good.bearer)).status).toBe(200);
    });
  });
});
