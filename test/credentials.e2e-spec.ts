import { basicHeaderSpellings } from '@flansible/testing';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { Fixture } from './support/fixture';
import { FlansibleProcess, GATEWAY_MAIN, freePort } from './support/flansible-process';

jest.setTimeout(120_000);

const HASH_PASSWORD_CLI = join(dirname(GATEWAY_MAIN), 'cli', 'hash-password.js');

/** Spellings of one Basic header that passport-http reads as the same user and password. */
const basicSpellings = basicHeaderSpellings;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** What an operator does: pipe the password into the built CLI and paste the hash into rbac.json. */
function hashWithCli(password: string): string {
  return execFileSync(process.execPath, [HASH_PASSWORD_CLI], { input: `${password}\n` }).toString().trim();
}

describe('credentials: hashed passwords, reload, throttling (embedded gateway)', () => {
  let deployment: Deployment;
  const alice = { user: 'alice', password: 'alice correct horse battery staple' };
  const carol = { user: 'carol', password: 'carol-secret' };
  const bob = { user: 'bob', password: 'bob-secret' };
  let users: object[];
  const withAuthorization = (authorization: string) => fetch(`${deployment.api.baseUrl}/api/listplaybooks`, { headers: { authorization } });

  beforeAll(async () => {
    users = [
      { user: alice.user, password: hashWithCli(alice.password), inventories: ['dev'] },
      { user: carol.user, password: hashWithCli(carol.password), inventories: ['dev'] },
    ];
    expect(users).toEqual(users.map((u) => expect.objectContaining({ password: expect.stringMatching(/^\$scrypt\$ln=15,r=8,p=1\$/) })));
    deployment = await Deployment.start('embedded', { rbac: users });
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('refuses to hash a password with a colon (HTTP Basic through passport-http could not send it)', () => {
    expect(() => execFileSync(process.execPath, [HASH_PASSWORD_CLI], { input: 'pa:ss\n', stdio: 'pipe' })).toThrow(/must not contain a colon/);
  });

  it('lets a user with a hashed password run a ping job and poll it', async () => {
    const api = deployment.api.as(alice);
    const id = await api.submit('/api/ansiblecommand', { host_pattern: 'all', module: 'ping', inventory: 'dev' });
    expect(await api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS', returncode: 0 });
    expect(await api.output(id)).toContain('"ping": "pong"');
    expect(deployment.gateway.logs).not.toMatch(/plaintext password/);
  });

  it('answers a wrong password with 401 and the Basic challenge', async () => {
    const res = await deployment.api.as({ user: alice.user, password: 'alice' }).get('/api/listplaybooks');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
  });

  it('picks up a user added to rbac.json without a restart', async () => {
    deployment.fixture.writeRbac([...users, { user: bob.user, password: hashWithCli(bob.password), inventories: [] }]);
    await eventually(async () => (await deployment.api.as(bob).get('/api/listplaybooks')).status === 200, 'bob to be let in', 10_000);
    await deployment.gateway.waitForLog(/Reloaded .*rbac\.json: 3 users/);
  });

  it('keeps the users it has when rbac.json is broken, and says why', async () => {
    writeFileSync(deployment.fixture.rbacFile, '{"rbac": [');
    await deployment.gateway.waitForLog(/Not reloading: FLANSIBLE_RBAC_FILE .*rbac\.json is not valid JSON/, 10_000);
    expect((await deployment.api.as(alice).get('/api/listplaybooks')).status).toBe(200);
  });

  it('answers 429 with Retry-After after repeated failures, without locking out other users', async () => {
    const guesser = deployment.api.as({ user: carol.user, password: 'guess' });
    for (let i = 0; i < 10; i++) {
      const res = await guesser.get('/api/listplaybooks');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const blocked = await guesser.get('/api/listplaybooks');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/^Too many failed logins/) });
    // Even the right password waits out the block: the guesser cannot tell which one was right.
    expect((await deployment.api.as(carol).get('/api/listplaybooks')).status).toBe(429);
    expect((await deployment.api.as(alice).get('/api/listplaybooks')).status).toBe(200);
    expect(deployment.gateway.logs).toMatch(/Too many failed logins \(10\) for user "carol" from "[^"]+": blocked for \d+ s/);
  });

  it('answers 429 to a blocked user whatever the header looks like, right password or not', async () => {
    // carol is blocked by the test before (10 s); alice proves each spelling is accepted as credentials.
    for (const [what, authorization] of basicSpellings(alice.user, alice.password)) {
      expect([what, (await withAuthorization(authorization)).status]).toEqual([what, 200]);
    }
    for (const [what, authorization] of [...basicSpellings(carol.user, carol.password), ...basicSpellings(carol.user, 'guess')]) {
      const res = await withAuthorization(authorization);
      expect([what, res.status, Number(res.headers.get('retry-after')) > 0]).toEqual([what, 429, true]);
    }
  });

  it('counts wrong passwords sent with trailing junk towards the block', async () => {
    // bob was added to rbac.json above and has not failed yet.
    const spellings = basicSpellings(bob.user, 'guess');
    for (let i = 0; i < 10; i++) {
      const [what, authorization] = spellings[i % spellings.length];
      expect([what, i, (await withAuthorization(authorization)).status]).toEqual([what, i, 401]);
    }
    const blocked = await deployment.api.as(bob).get('/api/listplaybooks');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('credentials: failed checks cost the same (embedded gateway, with a plaintext user)', () => {
  let deployment: Deployment;
  const hashed = { user: 'frank', password: 'frank-secret' };
  const plaintext = { user: 'grace', password: 'grace-plain-secret' };

  beforeAll(async () => {
    deployment = await Deployment.start('embedded', {
      rbac: [
        { user: hashed.user, password: hashWithCli(hashed.password), inventories: ['dev'] },
        { user: plaintext.user, password: plaintext.password, inventories: ['dev'] },
      ],
    });
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('takes as long for a wrong plaintext password as for an unknown user or a wrong hashed password', async () => {
    const timed = async (credentials: { user: string; password: string }) => {
      const started = process.hrtime.bigint();
      const res = await deployment.api.as(credentials).get('/api/listplaybooks');
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    expect((await deployment.api.as(plaintext).get('/api/listplaybooks')).status).toBe(200);
    // 9 guesses per user stay below the throttle's 10; interleaved, so load from others hits all alike.
    const times = { unknown: [] as number[], wrongPlaintext: [] as number[], wrongHash: [] as number[] };
    for (let i = 0; i < 9; i++) {
      times.unknown.push(await timed({ user: `nobody-${i}`, password: 'guess' }));
      times.wrongPlaintext.push(await timed({ user: plaintext.user, password: `guess-${i}` }));
      times.wrongHash.push(await timed({ user: hashed.user, password: `guess-${i}` }));
    }
    // A ratio, not a speed: before, a wrong plaintext password answered ~40x faster than an unknown user.
    const unknown = median(times.unknown);
    expect({ wrongPlaintext: median(times.wrongPlaintext) / unknown >= 0.5, wrongHash: median(times.wrongHash) / unknown >= 0.5, times }).toMatchObject({
      wrongPlaintext: true,
      wrongHash: true,
    });
  });
});

describe('credentials: boot checks', () => {
  const fixture = new Fixture();
  afterAll(() => fixture.cleanup());

  it('refuses to listen beyond loopback with the default admin/admin, saying how to fix it', async () => {
    const gateway = FlansibleProcess.start('gateway-default-credentials', GATEWAY_MAIN, {
      ...fixture.env(),
      FLANSIBLE_HOST: '0.0.0.0',
      FLANSIBLE_PORT: String(await freePort()),
    });
    expect(await gateway.waitForExit()).toBe(78);
    const lines = gateway.logs.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^flansible: refusing to listen on FLANSIBLE_HOST=0\.0\.0\.0 while FLANSIBLE_RBAC_FILE \S+ still has the default credentials admin\/admin/);
    expect(lines[0]).toContain('npm run hash-password');
  });

  it('stops with one line naming FLANSIBLE_RBAC_FILE when rbac.json is malformed', async () => {
    const rbacFile = join(fixture.root, 'broken-rbac.json');
    writeFileSync(rbacFile, JSON.stringify({ rbac: [{ user: 'ops', password: 'x', become: 'yes' }] }));
    const gateway = FlansibleProcess.start('gateway-bad-rbac', GATEWAY_MAIN, {
      ...fixture.env(),
      FLANSIBLE_RBAC_FILE: rbacFile,
      FLANSIBLE_PORT: String(await freePort()),
    });
    expect(await gateway.waitForExit()).toBe(78);
    const lines = gateway.logs.trim().split('\n');
    expect(lines).toEqual([`flansible: invalid configuration: FLANSIBLE_RBAC_FILE ${rbacFile}: entry 0 (user "ops") "become" must be true or false`]);
  });
});
