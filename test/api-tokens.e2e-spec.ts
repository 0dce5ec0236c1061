import { createFlansibleClient, FlansibleClient } from '@flansible/sdk';
import { ApiClient, eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { FlansibleProcess, GATEWAY_MAIN, freePort } from './support/flansible-process';

jest.setTimeout(120_000);

/**
 * API tokens in the distributed deployment: two gateway processes on one PostgreSQL. Each reads
 * the store for every bearer request, so what one gateway revokes the other refuses at once.
 */
describe('API tokens across two gateways (distributed)', () => {
  let deployment: Deployment;
  let gatewayB: FlansibleProcess;
  let urlB: string;
  const devadmin = { user: 'devadmin', password: 'devpassword' };
  const ping = { host_pattern: 'all', module: 'ping', inventory: 'dev' };

  beforeAll(async () => {
    deployment = await Deployment.start('distributed', { runners: 1 });
    const port = await freePort();
    urlB = `http://127.0.0.1:${port}`;
    gatewayB = FlansibleProcess.start('gateway-b', GATEWAY_MAIN, { ...deployment.env, FLANSIBLE_PORT: String(port) });
    await gatewayB.waitForLog(/listening on http/);
  });

  afterAll(async () => {
    await gatewayB?.stop();
    await deployment?.stop();
  });

  const onA = () => deployment.api.as(devadmin).sdk;
  const withToken = (baseUrl: string, token: string): FlansibleClient => createFlansibleClient({ baseUrl, token });
  const statusWith = async (baseUrl: string, token: string) =>
    new ApiClient(baseUrl, null).request<{ message: string }>('GET', '/api/v1/jobs', { headers: { authorization: `Bearer ${token}` } });

  it('runs a job with a token issued through gateway A, submitted through B, followed through A', async () => {
    const { token } = await onA().createToken({ name: 'e2e script', scope: 'run', expires_in_days: 1 });
    const job = await withToken(urlB, token).submitCommand(ping);
    expect(job.submitted_by).toBe('devadmin');
    expect(await withToken(deployment.api.baseUrl, token).waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 })).toMatchObject({ status: 'successful' });
    const listed = await withToken(urlB, token).listTokens();
    expect(listed.items.find((t) => t.name === 'e2e script')?.last_used_at).toEqual(expect.any(String));
  });

  it('refuses on gateway B, at once, a token revoked through gateway A', async () => {
    const created = await onA().createToken({ name: 'to revoke', scope: 'read' });
    expect((await statusWith(urlB, created.token)).status).toBe(200);
    await onA().revokeToken(created.id);
    // No wait: B's very next request.
    const refused = await statusWith(urlB, created.token);
    expect([refused.status, refused.body.message]).toEqual([401, 'Unknown or revoked API token']);
    expect((await statusWith(deployment.api.baseUrl, created.token)).status).toBe(401);
  });

  it('refuses on every gateway a token once it expires, and a read token what changes things', async () => {
    const created = await onA().createToken({ name: 'expiring', scope: 'read' });
    const submit = await withToken(urlB, created.token).submitCommand(ping).catch((err: unknown) => err);
    expect(submit).toMatchObject({ status: 403, body: { message: 'This API token has scope "read": POST /api/v1/jobs/command needs a token with scope "run"' } });
    await deployment.storeSql('UPDATE api_tokens SET expires_at = $1 WHERE id = $2', [Date.now() - 1, created.id]);
    for (const url of [urlB, deployment.api.baseUrl]) {
      const res = await statusWith(url, created.token);
      expect([url, res.status, res.body.message]).toEqual([url, 401, expect.stringMatching(/^API token expired at /)]);
    }
  });

  it("refuses on every gateway the tokens of a user removed from rbac.json, once each has read the file", async () => {
    const { token } = await onA().createToken({ name: 'until removed', scope: 'read' });
    const entries = deployment.fixture.readRbac();
    deployment.fixture.writeRbac(entries.filter((entry) => entry.user !== devadmin.user));
    try {
      for (const url of [urlB, deployment.api.baseUrl]) {
        await eventually(async () => (await statusWith(url, token)).status === 401, `${url} to refuse the token`, 10_000);
        expect((await statusWith(url, token)).body.message).toBe('API token of a user no longer in rbac.json (devadmin)');
      }
    } finally {
      deployment.fixture.writeRbac(entries);
    }
    for (const url of [urlB, deployment.api.baseUrl]) {
      await eventually(async () => (await statusWith(url, token)).status === 200, `${url} to take the token again`, 10_000);
    }
  });
});
