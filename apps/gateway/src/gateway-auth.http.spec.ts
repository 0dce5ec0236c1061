import { createTestGateway, TestGateway, TEST_USERS } from './testing/create-test-gateway';

const UNKNOWN_JOB = '00000000-0000-4000-8000-000000000000';
const { produser } = TEST_USERS;

/** One request of each endpoint family, as a user who may not do it (produser: only `prod`). */
const FAMILIES: { family: string; method: 'get' | 'post'; path: string; body?: object; forbidden: string }[] = [
  { family: 'legacy command', method: 'post', path: '/api/ansiblecommand', body: { host_pattern: 'all', module: 'ping', inventory: 'dev' }, forbidden: 'inventory' },
  { family: 'legacy playbook', method: 'post', path: '/api/ansibleplaybook', body: { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev' }, forbidden: 'inventory' },
  { family: 'legacy git', method: 'post', path: '/api/git', body: { playbook_dir: 'app' }, forbidden: 'git' },
  { family: 'v1 command', method: 'post', path: '/api/v1/jobs/command', body: { host_pattern: 'all', module: 'ping', inventory: 'dev' }, forbidden: 'inventory' },
  { family: 'v1 playbook', method: 'post', path: '/api/v1/jobs/playbook', body: { playbook_dir: 'app', playbook: 'ok.yml', inventory: 'dev' }, forbidden: 'inventory' },
  { family: 'metrics', method: 'get', path: '/metrics', forbidden: 'metrics' },
];
/** Read routes: 401 first; a job its reader may not see is not found, as an unknown one. */
const READS = ['/api/listplaybooks', '/api/v1/jobs', `/api/v1/jobs/${UNKNOWN_JOB}`, `/api/ansibletaskstatus/${UNKNOWN_JOB}`, `/api/ansibletaskoutput/${UNKNOWN_JOB}`];

const errorBody = (statusCode: number, error: string) => ({ statusCode, error, message: expect.any(String) });

describe('gateway authentication and authorisation (in-process HTTP)', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await createTestGateway();
  });
  afterAll(() => gateway.close());

  const send = (method: 'get' | 'post', path: string, body?: object) =>
    method === 'get' ? gateway.http.get(path) : gateway.http.post(path).send(body ?? {});

  const routes = [...FAMILIES.map((f) => [f.family, f.method, f.path, f.body] as const), ...READS.map((p) => [p, 'get', p, undefined] as const)];
  describe.each(routes.map((route, i) => [...route, i] as const))(
    '%s',
    (_name, method, path, body, i) => {
      it('answers 401 with a Basic challenge without credentials', async () => {
        const res = await send(method, path, body);
        expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: errorBody(401, 'Unauthorized') });
        expect(res.headers['www-authenticate']).toMatch(/^Basic /);
        expect(res.headers['x-request-id']).toEqual(expect.any(String));
      });

      it('answers 401 to a wrong password and to an unknown user, alike', async () => {
        // A user (and an unknown name) per route: the login throttle answers 429 after 10 failures for one user.
        const user = Object.values(TEST_USERS)[i % 3].user;
        const wrong = await send(method, path, body).auth(user, 'not-the-password');
        const unknown = await send(method, path, body).auth(`nobody-${i}`, 'admin');
        for (const res of [wrong, unknown]) {
          expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: errorBody(401, 'Unauthorized') });
        }
        expect(unknown.body).toEqual(wrong.body);
      });
    },
  );

  it.each(FAMILIES.map((f) => [f.family, f] as const))('%s: answers 403 to a user without the right', async (_name, f) => {
    const before = gateway.countJobs();
    const res = await send(f.method, f.path, f.body).auth(produser.user, produser.password);
    expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: errorBody(403, 'Forbidden') });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(gateway.countJobs()).toBe(before);
  });

  it.each(['localhost', '127.0.0.1', '::1', 'localhost[0]', 'all:localhost'])(
    "queues a non-admin's job on %s: whether it reaches a listed host or the implicit localhost is the guard's to say",
    async (host_pattern) => {
      const { devadmin } = TEST_USERS;
      const res = await gateway.http.post('/api/ansiblecommand').auth(devadmin.user, devadmin.password).send({ host_pattern, module: 'ping', inventory: 'dev' });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { task_id: expect.any(String) } });
    },
  );

  it('answers 404 with the error body for a job the user may not see', async () => {
    const res = await gateway.http.get(`/api/v1/jobs/${UNKNOWN_JOB}`).auth(produser.user, produser.password);
    expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: errorBody(404, 'Not Found') });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('echoes a sane X-Request-Id on an error, and replaces one that is not', async () => {
    const echoed = await gateway.http.get('/api/v1/jobs').set('X-Request-Id', 'client-id-1234');
    expect([echoed.status, echoed.headers['x-request-id']]).toEqual([401, 'client-id-1234']);
    const replaced = await gateway.http.get('/api/v1/jobs').set('X-Request-Id', 'bad id\twith tab');
    expect(replaced.status).toBe(401);
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith tab');
    expect(replaced.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('lets the public health route through without credentials', async () => {
    expect((await gateway.http.get('/api/health')).status).toBe(200);
  });
});
