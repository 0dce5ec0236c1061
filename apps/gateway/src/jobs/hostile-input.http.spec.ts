import { ADMIN, hostileCases } from '../../../../test/scenarios/hostile-input.cases';
import { Fixture } from '../../../../test/support/fixture';
import { createTestGateway, TestGateway } from '../testing/create-test-gateway';

/**
 * The shared hostile-input table, in-process: each case must get its status with the shared error
 * body, queue nothing (job count) and run nothing (canary, enclosing repository). The e2e suite
 * keeps a sample of each kind against both deployments' processes.
 */
describe('hostile input (in-process HTTP)', () => {
  // Built now so the cases (which name fixture paths) exist when the tests are declared.
  const fixture = new Fixture();
  const cases = hostileCases(fixture);
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await createTestGateway({ env: fixture.env() });
  });
  afterAll(async () => {
    await gateway?.close();
    fixture.cleanup();
  });

  it.each(cases.map((c) => [`[${c.attack}] ${c.name}`, c] as const))('%s', async (_title, c) => {
    const before = gateway.countJobs();
    const who = c.as ?? ADMIN;
    const post = gateway.http.post(c.path).auth(who.user, who.password);
    const res = c.raw ? await post.set('content-type', c.raw.contentType).send(c.raw.body) : await post.type('json').send(JSON.stringify(c.body));
    expect({ status: res.status, body: res.body }).toEqual({
      status: c.status,
      body: expect.objectContaining({ statusCode: c.status, error: expect.any(String), message: expect.any(String) }),
    });
    expect(res.text).not.toMatch(/ at .*\.js:\d+|password/i);
    expect(gateway.countJobs()).toBe(before);
    expect(fixture.canaryExists()).toBe(false);
    expect(fixture.enclosingRepositoryUntouched()).toBe(true);
  });
});
