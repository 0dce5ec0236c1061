import { Controller, Get, INestApplication, Logger } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clock, FlansibleConfig } from '@flansible/config';
import { FakeClock } from '@flansible/testing';
import { AuthenticatedUser } from './authenticated-user';
import { BasicAuthGuard } from './basic-auth.guard';
import { BasicStrategy } from './basic.strategy';
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
}

describe('BasicAuthGuard over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flansible-guard-'));
  const rbacFile = join(dir, 'rbac.json');
  let app: INestApplication;
  let base: string;
  const clock = new FakeClock();

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const get = (path: string, authorization?: string) => fetch(base + path, { headers: authorization ? { authorization } : {} });

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
        BasicStrategy,
        LoginThrottle,
        { provide: APP_GUARD, useClass: BasicAuthGuard },
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
  const spellings = (user: string, password: string) => {
    const token = Buffer.from(`${user}:${password}`).toString('base64');
    return [
      ['trailing junk', `Basic ${token} x`],
      ['trailing junk after several spaces', `Basic ${token}   junk junk`],
      ['a lower-case scheme', `basic ${token}`],
      ['a mixed-case scheme with junk', `bAsIc ${token} x`],
      ['junk with a tab after the token', `Basic ${token} x\ty`],
      ['a scheme that only contains "basic"', `XBasicY ${token}`],
    ];
  };

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
});
