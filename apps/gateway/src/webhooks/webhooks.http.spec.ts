import { createTestGateway, TestGateway, TEST_USERS } from '../testing/create-test-gateway';

const { admin, devadmin, produser } = TEST_USERS;
const HOOK = 'http://127.0.0.1:9/hook';
const errorBody = (statusCode: number, error: string, message: string | RegExp = /./) => ({
  statusCode,
  error,
  message: typeof message === 'string' ? message : expect.stringMatching(message),
});

/** The webhook API in-process: who may do what, and every refusal a 4xx that stores nothing. */
describe('webhook subscriptions (in-process HTTP)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway({ env: { FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  });
  afterAll(() => gateway.close());

  type As = { user: string; password: string };
  const create = (as: As, body: unknown) => gateway.http.post('/api/v1/webhooks').auth(as.user, as.password).send(body as object);
  const get = (as: As, path: string) => gateway.http.get(path).auth(as.user, as.password);
  const remove = (as: As, path: string) => gateway.http.delete(path).auth(as.user, as.password);
  const count = async () => (await get(admin, '/api/v1/webhooks')).body.items.length as number;

  it('subscribes the caller and shows the signing secret once: 201, Location, whsec_ secret', async () => {
    const res = await create(devadmin, { url: HOOK, events: ['job.finished', 'job.started'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: HOOK,
      events: ['job.started', 'job.finished'],
      owner: 'devadmin',
      created_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    expect(Buffer.from(res.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(res.headers.location).toBe(`/api/v1/webhooks/${res.body.id}`);

    const { secret, ...shown } = res.body;
    expect((await get(devadmin, res.headers.location)).body).toEqual(shown);
    expect((await get(devadmin, '/api/v1/webhooks')).body.items).toContainEqual(shown);
    expect(JSON.stringify((await get(admin, '/api/v1/webhooks')).body)).not.toContain(secret);
    // Every subscription has a secret of its own.
    const other = await create(devadmin, { url: HOOK, events: ['job.finished'] });
    expect(other.body.secret).not.toBe(secret);
  });

  it.each(
    (
      [
        [{ events: ['job.finished'] }, /url is required/],
        [{ url: 42, events: ['job.finished'] }, /url must be a string/],
        [{ url: HOOK }, /events is required/],
        [{ url: HOOK, events: 'job.finished' }, /events must be an array/],
        [{ url: HOOK, events: [] }, /events must name at least one event/],
        [{ url: HOOK, events: ['job.done'] }, /each event must be one of job.started, job.finished/],
        [{ url: HOOK, events: ['job.finished', 'job.finished'] }, /events must not repeat/],
        [{ url: HOOK, events: ['job.finished'], secret: 'whsec_mine' }, /property secret should not exist/],
        [{ url: `http://127.0.0.1/${'a'.repeat(2048)}`, events: ['job.finished'] }, /url must be shorter than or equal to 2048/],
        [{ url: 'ftp://127.0.0.1/hook', events: ['job.finished'] }, 'url must use http or https, not ftp'],
        [{ url: 'file:///etc/passwd', events: ['job.finished'] }, /not file/],
        [{ url: '/relative/hook', events: ['job.finished'] }, /must be an absolute http/],
        [{ url: 'http://127.0.0.2/hook', events: ['job.finished'] }, /127\.0\.0\.2 is a loopback address/],
        [{ url: 'http://0x7f000002/', events: ['job.finished'] }, /127\.0\.0\.2 is a loopback address/],
        [{ url: 'http://2130706434/', events: ['job.finished'] }, /127\.0\.0\.2 is a loopback address/],
        [{ url: 'http://[::ffff:127.0.0.2]/', events: ['job.finished'] }, /loopback address/],
        [{ url: 'http://[::1]/', events: ['job.finished'] }, /::1 is a loopback address/],
        [{ url: 'http://localhost./', events: ['job.finished'] }, /localhost resolves to a loopback address/],
        [{ url: 'http://example.com@127.0.0.1/', events: ['job.finished'] }, /must not contain credentials/],
        [{ url: 'http://169.254.169.254/latest/meta-data/', events: ['job.finished'] }, /metadata address/],
        [{ url: 'http://[fd00:ec2::254]/', events: ['job.finished'] }, /metadata address/],
        [{ url: 'http://10.0.0.1/', events: ['job.finished'] }, /private address/],
        [{ url: 'http://100.64.0.1/', events: ['job.finished'] }, /CGNAT address/],
        [{ url: 'http://[fe80::1]/', events: ['job.finished'] }, /link-local address/],
        [{ url: 'http://[fd12::1]/', events: ['job.finished'] }, /unique-local address/],
      ] as [object, string | RegExp][]
    ).map(([body, message]) => [JSON.stringify(body).slice(0, 120), body, message] as const),
  )('answers 400 to %s and stores nothing', async (_name, body, message) => {
    const before = await count();
    const res = await create(admin, body);
    expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: expect.objectContaining(errorBody(400, 'Bad Request', message)) });
    expect(await count()).toBe(before);
  });

  it('judges an address by what it reaches, whatever its spelling: 127.1 and 0x7f000001 are the allowed 127.0.0.1', async () => {
    for (const url of ['http://127.1:9/hook', 'http://0x7f000001:9/hook', 'http://2130706433:9/hook', 'http://[::ffff:127.0.0.1]:9/hook']) {
      const res = await create(admin, { url, events: ['job.finished'] });
      expect([url, res.status]).toEqual([url, 201]);
      await remove(admin, `/api/v1/webhooks/${res.body.id}`);
    }
  });

  it('answers 415 to a body that is not JSON and 401 without credentials', async () => {
    const text = await gateway.http.post('/api/v1/webhooks').auth(admin.user, admin.password).set('Content-Type', 'text/plain').send('url=x');
    expect(text.status).toBe(415);
    for (const res of [
      await gateway.http.post('/api/v1/webhooks').send({ url: HOOK, events: ['job.finished'] }),
      await gateway.http.get('/api/v1/webhooks'),
      await gateway.http.delete('/api/v1/webhooks/00000000-0000-4000-8000-000000000000'),
    ]) {
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: errorBody(401, 'Unauthorized') });
    }
  });

  it("lets a user see and delete only their own webhooks, an admin anyone's; anyone else's is not found", async () => {
    const mine = (await create(devadmin, { url: HOOK, events: ['job.finished'] })).body;
    const path = `/api/v1/webhooks/${mine.id}`;
    for (const res of [await get(produser, path), await get(produser, `${path}/deliveries`), await remove(produser, path)]) {
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: errorBody(404, 'Not Found', 'Webhook not found') });
    }
    expect((await get(produser, '/api/v1/webhooks')).body.items).toEqual([]);
    expect((await get(devadmin, '/api/v1/webhooks')).body.items.every((w: { owner: string }) => w.owner === 'devadmin')).toBe(true);
    expect((await get(admin, '/api/v1/webhooks')).body.items.map((w: { id: string }) => w.id)).toContain(mine.id);
    expect((await get(admin, path)).body).toMatchObject({ id: mine.id, owner: 'devadmin' });
    expect((await get(admin, `${path}/deliveries`)).body).toEqual({ items: [] });

    expect((await remove(devadmin, path)).status).toBe(204);
    expect((await get(devadmin, path)).status).toBe(404);
    expect((await remove(admin, path)).status).toBe(404);
  });

  it('answers 404 to an id that is no webhook id, and 400 to a bad deliveries limit', async () => {
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000', '%00']) {
      expect((await get(admin, `/api/v1/webhooks/${id}`)).status).toBe(404);
    }
    const { id } = (await create(admin, { url: HOOK, events: ['job.finished'] })).body;
    for (const limit of ['0', '101', 'abc', '1e2']) {
      const res = await get(admin, `/api/v1/webhooks/${id}/deliveries?limit=${limit}`);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: expect.objectContaining(errorBody(400, 'Bad Request', /limit must be an integer from 1 to 100/)) });
    }
    expect((await get(admin, `/api/v1/webhooks/${id}/deliveries?limit=100`)).status).toBe(200);
  });

  it('answers 422 to a 26th webhook of one user and stores nothing', async () => {
    const have = (await get(produser, '/api/v1/webhooks')).body.items.length as number;
    for (let i = have; i < 25; i++) expect((await create(produser, { url: HOOK, events: ['job.finished'] })).status).toBe(201);
    const before = await count();
    const res = await create(produser, { url: HOOK, events: ['job.finished'] });
    expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: errorBody(422, 'Unprocessable Entity', 'A user may have at most 25 webhooks; delete one first') });
    expect(await count()).toBe(before);
  });
});
