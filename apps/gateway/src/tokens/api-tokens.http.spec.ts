import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { RbacService } from '@flansible/auth';
import { createTestGateway, TestGateway, TEST_USERS } from '../testing/create-test-gateway';

jest.setTimeout(30_000);

const { admin, devadmin, produser } = TEST_USERS;
const DAY_MS = 86_400_000;
const UNKNOWN_JOB = '00000000-0000-4000-8000-000000000000';

interface CreatedToken {
  id: string;
  name: string;
  user: string;
  scope: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  token: string;
}

describe('API tokens (in-process HTTP)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway();
  });
  afterAll(() => gateway?.close());

  const login = (who: { user: string; password: string }) => ({ authorization: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}` });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const issue = async (who: { user: string; password: string }, body: object = {}): Promise<CreatedToken> => {
    const res = await gateway.http.post('/api/v1/tokens').set(login(who)).send({ name: 'spec token', scope: 'run', ...body });
    expect(res.status).toBe(201);
    return res.body as CreatedToken;
  };
  const command = { host_pattern: 'all', module: 'ping', inventory: 'dev' };

  it('issues a token once: flt_ and 43 base64url characters, 90 days by default, stored only as its hash', async () => {
    const before = Date.now();
    const created = await issue(devadmin, { name: 'ops portal' });
    expect(created).toEqual({
      id: expect.any(String),
      name: 'ops portal',
      user: 'devadmin',
      scope: 'run',
      created_at: expect.any(String),
      expires_at: expect.any(String),
      last_used_at: null,
      token: expect.stringMatching(/^flt_[A-Za-z0-9_-]{43}$/),
    });
    const lifetime = Date.parse(created.expires_at) - Date.parse(created.created_at);
    expect(lifetime).toBe(90 * DAY_MS);
    expect(Date.parse(created.created_at)).toBeGreaterThanOrEqual(before - 1);

    const week = await issue(devadmin, { expires_in_days: 7, scope: 'read' });
    expect(Date.parse(week.expires_at) - Date.parse(week.created_at)).toBe(7 * DAY_MS);

    const [row] = gateway.storeSql<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = ?', created.id);
    expect(row.secret_hash).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(gateway.storeSql('SELECT * FROM api_tokens'))).not.toContain(created.token.slice(4));
  });

  it.each([
    ['no name', { scope: 'run' }, 'name is required'],
    ['no scope', { name: 'x' }, 'scope is required'],
    ['an unknown scope', { name: 'x', scope: 'admin' }, 'scope must be one of read, run'],
    ['an empty name', { name: '', scope: 'run' }, 'name must be 1 to 100 characters without control characters'],
    ['a name with a newline', { name: 'a\nb', scope: 'run' }, 'name must be 1 to 100 characters without control characters'],
    ['0 days', { name: 'x', scope: 'run', expires_in_days: 0 }, 'expires_in_days must not be less than 1'],
    ['366 days', { name: 'x', scope: 'run', expires_in_days: 366 }, 'expires_in_days must not be greater than 365'],
    ['days as a string', { name: 'x', scope: 'run', expires_in_days: '90' }, 'expires_in_days must be an integer number'],
    ['an unknown field', { name: 'x', scope: 'run', user: 'admin' }, 'property user should not exist'],
  ])('answers 400 to a request with %s', async (_what, body, message) => {
    const res = await gateway.http.post('/api/v1/tokens').set(login(devadmin)).send(body);
    expect([res.status, res.body.message]).toEqual([400, message]);
  });

  it("lists the caller's tokens newest first, without the tokens, with when each was last used", async () => {
    const older = await issue(produser, { name: 'older' });
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later creation time
    const newer = await issue(produser, { name: 'newer', scope: 'read' });
    expect((await gateway.http.get('/api/v1/jobs').set(bearer(newer.token))).status).toBe(200);

    const res = await gateway.http.get('/api/v1/tokens').set(login(produser));
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: CreatedToken) => t.name)).toEqual(['newer', 'older']);
    expect(res.body.items[0]).toEqual({ ...newer, token: undefined, last_used_at: expect.any(String) });
    expect(res.body.items[1]).toEqual({ ...older, token: undefined });
    expect(JSON.stringify(res.body)).not.toContain(older.token);
    // A token lists its user's tokens too (reading is within either scope).
    expect((await gateway.http.get('/api/v1/tokens').set(bearer(newer.token))).body.items).toHaveLength(2);
  });

  it('is accepted wherever Basic is: the v1 and the Flansible job routes, acting as its user', async () => {
    const { token } = await issue(devadmin);
    const submitted = await gateway.http.post('/api/v1/jobs/command').set(bearer(token)).send(command);
    expect(submitted.status).toBe(202);
    expect(submitted.body.submitted_by).toBe('devadmin');
    expect((await gateway.http.get(`/api/v1/jobs/${submitted.body.id}`).set(bearer(token))).status).toBe(200);
    const legacy = await gateway.http.post('/api/ansiblecommand').set(bearer(token)).send(command);
    expect(legacy.status).toBe(200);
    expect((await gateway.http.get(`/api/ansibletaskstatus/${legacy.body.task_id}`).set(bearer(token))).body.Status).toBe('PROGRESS');
    // Its user's rights, no more: devadmin may not use prod.
    const refused = await gateway.http.post('/api/v1/jobs/command').set(bearer(token)).send({ ...command, inventory: 'prod' });
    expect(refused.status).toBe(403);
  });

  it('refuses a read token everything that changes something, with a 403 saying so, and stores nothing', async () => {
    const run = await issue(devadmin);
    const read = await issue(devadmin, { scope: 'read' });
    const job = (await gateway.http.post('/api/v1/jobs/command').set(bearer(run.token)).send(command)).body.id as string;
    const before = gateway.countJobs();
    const changes: [string, string, object][] = [
      ['post', '/api/v1/jobs/command', command],
      ['post', '/api/v1/jobs/playbook', { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev' }],
      ['post', '/api/ansiblecommand', command],
      ['post', '/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev' }],
      ['post', '/api/git', { playbook_dir: 'app' }],
      ['post', `/api/v1/jobs/${job}/cancel`, {}],
      ['post', `/api/v1/jobs/${job}/relaunch`, { hosts: 'all' }],
      ['post', '/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: ['job.finished'] }],
      ['post', '/api/v1/tokens', { name: 'more', scope: 'read' }],
      ['delete', `/api/v1/tokens/${run.id}`, {}],
    ];
    for (const [method, path, body] of changes) {
      const res = await (method === 'post' ? gateway.http.post(path).send(body) : gateway.http.delete(path)).set(bearer(read.token));
      expect([path, res.status, res.body.message]).toEqual([
        path,
        403,
        `This API token has scope "read": ${method.toUpperCase()} ${path} needs a token with scope "run"`,
      ]);
    }
    expect(gateway.countJobs()).toBe(before);
    expect((await gateway.http.get(`/api/v1/jobs/${job}`).set(bearer(read.token))).body.status).toBe('queued');
    expect((await gateway.http.get(`/api/v1/jobs/${job}/output`).set(bearer(read.token))).status).toBe(200);
    expect((await gateway.http.post(`/api/v1/jobs/${job}/cancel`).set(bearer(run.token))).status).toBe(202);
  });

  it('answers 401 with both challenges to a malformed, unknown, expired or revoked token', async () => {
    const expired = await issue(devadmin);
    gateway.storeSql('UPDATE api_tokens SET expires_at = ? WHERE id = ?', Date.now() - 1, expired.id);
    const revoked = await issue(devadmin);
    expect((await gateway.http.delete(`/api/v1/tokens/${revoked.id}`).set(bearer(revoked.token))).status).toBe(204);
    const cases: [string, string, RegExp][] = [
      ['malformed', 'Bearer not-a-token', /^Malformed bearer token/],
      ['empty', 'Bearer ', /^Malformed bearer token/],
      ['unknown', `Bearer flt_${'A'.repeat(43)}`, /^Unknown or revoked API token$/],
      ['expired', `Bearer ${expired.token}`, /^API token expired at /],
      ['revoked', `Bearer ${revoked.token}`, /^Unknown or revoked API token$/],
    ];
    for (const [what, authorization, message] of cases) {
      const res = await gateway.http.get('/api/v1/jobs').set({ authorization });
      expect([what, res.status, message.test(res.body.message)]).toEqual([what, 401, true]);
      expect(res.headers['www-authenticate']).toBe('Basic realm="flansible", charset="UTF-8", Bearer realm="flansible"');
    }
  });

  it('answers 401 at once to the token of a user removed from rbac.json, and gives it the rights rbac.json gives now', async () => {
    const { token } = await issue(produser);
    const without = Object.values(TEST_USERS).filter((u) => u.user !== produser.user);
    try {
      writeFileSync(gateway.rbacFile, JSON.stringify({ rbac: without }));
      expect(await gateway.app.get(RbacService).reload()).toBe(true);
      const res = await gateway.http.get('/api/v1/jobs').set(bearer(token));
      expect([res.status, res.body.message]).toEqual([401, 'API token of a user no longer in rbac.json (produser)']);

      // Back, now with dev instead of prod: the same token has the new rights.
      writeFileSync(gateway.rbacFile, JSON.stringify({ rbac: [...without, { ...produser, inventories: ['dev'] }] }));
      expect(await gateway.app.get(RbacService).reload()).toBe(true);
      expect((await gateway.http.post('/api/v1/jobs/command').set(bearer(token)).send(command)).status).toBe(202);
    } finally {
      writeFileSync(gateway.rbacFile, JSON.stringify({ rbac: Object.values(TEST_USERS) }));
      await gateway.app.get(RbacService).reload();
    }
  });

  it("lets an admin list and revoke anyone's tokens, and nobody else", async () => {
    const devs = await issue(devadmin, { name: 'dev portal' });
    const admins = await issue(admin, { name: 'admin script' });

    const forDev = await gateway.http.get('/api/v1/tokens?user=devadmin').set(login(admin));
    expect(forDev.status).toBe(200);
    expect(forDev.body.items.map((t: CreatedToken) => t.user)).toEqual(expect.arrayContaining(['devadmin']));
    expect(new Set(forDev.body.items.map((t: CreatedToken) => t.user))).toEqual(new Set(['devadmin']));
    const all = await gateway.http.get('/api/v1/tokens?all=true').set(bearer(admins.token));
    expect(all.body.items.map((t: CreatedToken) => t.id)).toEqual(expect.arrayContaining([devs.id, admins.id]));
    expect((await gateway.http.get('/api/v1/tokens?all=true&user=devadmin').set(login(admin))).status).toBe(400);

    for (const query of ['?user=admin', '?all=true', '?all=1']) {
      const res = await gateway.http.get(`/api/v1/tokens${query}`).set(login(devadmin));
      expect([query, res.status, res.body.message]).toEqual([query, 403, "Only an admin may list other users' tokens"]);
    }
    expect((await gateway.http.get('/api/v1/tokens?user=devadmin').set(login(devadmin))).status).toBe(200);

    // Another user's token is not found, as an unknown one; it keeps working.
    for (const id of [admins.id, UNKNOWN_JOB]) {
      const res = await gateway.http.delete(`/api/v1/tokens/${id}`).set(bearer(devs.token));
      expect([res.status, res.body.message]).toEqual([404, `Unknown API token ${id}`]);
    }
    expect((await gateway.http.get('/api/v1/jobs').set(bearer(admins.token))).status).toBe(200);

    const revoked = await gateway.http.delete(`/api/v1/tokens/${devs.id}`).set(login(admin));
    expect([revoked.status, revoked.text]).toEqual([204, '']);
    expect((await gateway.http.get('/api/v1/jobs').set(bearer(devs.token))).status).toBe(401);
    expect((await gateway.http.delete(`/api/v1/tokens/${devs.id}`).set(login(admin))).status).toBe(404);
  });

  // Last: it leaves this address blocked for a while.
  it('counts bad tokens towards the login throttle: 429 with Retry-After after 10 failures', async () => {
    const unknown = `Bearer flt_${'B'.repeat(43)}`;
    for (let i = 0; i < 10; i++) expect((await gateway.http.get('/api/v1/jobs').set({ authorization: unknown })).status).toBe(401);
    const blocked = await gateway.http.get('/api/v1/jobs').set({ authorization: unknown });
    expect([blocked.status, blocked.body.message]).toEqual([429, 'Too many failed logins; try again in 10 s']);
    expect(blocked.headers['retry-after']).toBe('10');
  });
});
