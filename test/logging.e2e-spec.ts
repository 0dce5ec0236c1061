import { eventually } from './support/api-client';
import { Deployment, DeploymentKind } from './support/deployment';
import { LIMITED_USERS } from './support/fixture';

jest.setTimeout(120_000);

/** A user whose password, and an extra var whose value, no log line may ever show. */
const TRACER = { user: 'tracer', password: 'tr4cer-Pa55word-never-logged', inventories: ['dev'], admin: true };
const SECRET_VALUE = 'extra-var-value-never-logged';
const REQUEST_ID = 'trace-e2e-42.a:b';

/** Each line of a process's output as JSON, failing on the first that is not an object with the base fields. */
function jsonLines(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
      expect(entry).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
      return entry;
    });
}

describe.each([
  ['distributed', 'json'],
  ['embedded', 'text'],
] as [DeploymentKind, 'json' | 'text'][])('logs and request ids (%s, %s)', (kind, format) => {
  const deployment = new Deployment(kind, {
    runners: 1,
    env: { FLANSIBLE_LOG_FORMAT: format },
    rbac: [{ user: 'admin', password: 'admin', inventories: [] }, ...Object.values(LIMITED_USERS), TRACER],
  });
  beforeAll(() => deployment.boot());
  afterAll(() => deployment.stop());

  it("carries the client's request id from the response to the job and to every log line about it, in gateway and runner, and logs no secret", async () => {
    const api = deployment.api.as(TRACER);
    const res = await api.request<{ id: string; request_id: string | null }>('POST', '/api/v1/jobs/command', {
      json: { host_pattern: 'all', inventory: 'dev', module: 'ping', extra_vars: { deploy_token: SECRET_VALUE } },
      headers: { 'X-Request-Id': REQUEST_ID },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(REQUEST_ID);
    const { id } = res.body;
    const job = await eventually(async () => {
      const found = await api.get<{ status: string; request_id: string | null }>(`/api/v1/jobs/${id}`);
      return ['successful', 'failed', 'error'].includes(found.body.status) ? found.body : undefined;
    }, `job ${id} to end`);
    expect(job).toMatchObject({ status: 'successful', request_id: REQUEST_ID });

    const processes = [deployment.gateway, ...deployment.runners];
    const runnerLogs = kind === 'distributed' ? deployment.runners[0].logs : deployment.gateway.logs;
    if (format === 'json') {
      const gatewayLines = jsonLines(deployment.gateway.logs);
      const runnerLines = jsonLines(runnerLogs);
      // The gateway's line for the submission, and the runner's for the run, found by the one id.
      expect(gatewayLines).toContainEqual(expect.objectContaining({ requestId: REQUEST_ID, msg: expect.stringContaining(`Job ${id} queued`) }));
      const aboutJob = runnerLines.filter((line) => line.jobId === id);
      expect(aboutJob.map((line) => line.msg)).toEqual(expect.arrayContaining([expect.stringContaining('started'), expect.stringContaining('successful')]));
      for (const line of aboutJob) expect(line).toMatchObject({ requestId: REQUEST_ID, runner: expect.stringMatching(/:\d+:/) });
    } else {
      expect(runnerLogs).toMatch(new RegExp(`\\{requestId=${REQUEST_ID.replace(/\./g, '\\.')} jobId=${id} runner=\\S+\\} Job ${id} .*started`));
    }
    for (const process of processes) {
      // stdout is a pipe here: no colour codes in either format.
      expect(process.logs).not.toContain('\u001b[');
      const authorization = Buffer.from(`${TRACER.user}:${TRACER.password}`).toString('base64');
      for (const secret of [TRACER.password, authorization, SECRET_VALUE]) expect(process.logs).not.toContain(secret);
    }
  });

  it('replaces a request id that is not sane with one of its own, and makes one when none is sent', async () => {
    for (const sent of ['has spaces in it', 'x'.repeat(200), '-leading-dash', 'semi;colon']) {
      const res = await deployment.api.request('GET', '/api/health', { headers: { 'X-Request-Id': sent } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const res = await deployment.api.request('GET', '/api/health');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
