import { createTestGateway, TestGateway, TEST_USERS } from './testing/create-test-gateway';

const PORTAL = 'https://portal.example.com';
const OTHER = 'https://evil.example.net';
const { admin } = TEST_USERS;

describe('CORS (in-process HTTP)', () => {
  describe('with cors_origins set', () => {
    let gateway: TestGateway;
    beforeAll(async () => {
      gateway = await createTestGateway({ env: { FLANSIBLE_CORS_ORIGINS: `${PORTAL},http://127.0.0.1:8080` } });
    });
    afterAll(() => gateway.close());

    const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type,idempotency-key') =>
      gateway.http
        .options('/api/v1/jobs/command')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', method)
        .set('Access-Control-Request-Headers', headers);

    it('answers a preflight from a listed origin, without credentials, with what the SDK sends, cached', async () => {
      const res = await preflight(PORTAL, 'POST', 'authorization,content-type,idempotency-key,last-event-id,x-request-id');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-methods']?.split(',')).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE']));
      const allowed = res.headers['access-control-allow-headers']?.toLowerCase().split(',');
      expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'idempotency-key', 'last-event-id', 'x-request-id']));
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThanOrEqual(600);
      expect(res.headers.vary).toMatch(/Origin/);
    });

    it('lets a listed origin read the answer and its Location, with credentials', async () => {
      const res = await gateway.http
        .post('/api/v1/jobs/command')
        .set('Origin', 'http://127.0.0.1:8080')
        .auth(admin.user, admin.password)
        .send({ host_pattern: 'all', module: 'ping' });
      expect(res.status).toBe(202);
      expect(res.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8080');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']?.split(',')).toEqual(expect.arrayContaining(['Location', 'X-Request-Id']));
      expect(res.headers.location).toMatch(/^\/api\/v1\/jobs\//);
    });

    it.each([
      ['another site', OTHER],
      ['a listed host on another scheme', 'http://portal.example.com'],
      ['a listed host on another port', 'https://portal.example.com:8443'],
      ['a sub-domain of a listed host', 'https://x.portal.example.com'],
      ['a look-alike suffix', 'https://portal.example.com.evil.example.net'],
      ['the opaque origin of a sandboxed page or file', 'null'],
      ['a different case', 'https://PORTAL.example.com'],
    ])('sends no CORS header to %s', async (_what, origin) => {
      const pre = await preflight(origin);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
      const res = await gateway.http.get('/api/v1/jobs').set('Origin', origin).auth(admin.user, admin.password);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('still asks a listed origin for credentials: CORS lets the page call, not skip the login', async () => {
      const res = await gateway.http.get('/api/v1/jobs').set('Origin', PORTAL);
      expect(res.status).toBe(401);
      expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    });
  });

  it('sends no CORS header anywhere by default', async () => {
    const gateway = await createTestGateway();
    try {
      const pre = await gateway.http
        .options('/api/v1/jobs')
        .set('Origin', PORTAL)
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'authorization');
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      const res = await gateway.http.get('/api/v1/jobs').set('Origin', PORTAL).auth(admin.user, admin.password);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await gateway.close();
    }
  });
});
