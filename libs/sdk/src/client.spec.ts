import { createFlansibleClient, FlansibleApiError, FlansibleTimeoutError, isFlansibleApiError } from './index';
import { LocalServer, RecordedRequest, sendJson } from './testing/local-server';

describe('FlansibleClient', () => {
  let server: LocalServer;
  /** What the server answers next, per "METHOD path" (without the query). */
  let answers: Record<string, (req: RecordedRequest) => { status: number; body: unknown; headers?: Record<string, string> }>;

  beforeAll(async () => {
    server = await LocalServer.start((req, res) => {
      const key = `${req.method} ${req.url.split('?')[0]}`;
      const answer = answers[key];
      if (!answer) return sendJson(res, 404, { statusCode: 404, error: 'Not Found', message: `no answer for ${key}` });
      const { status, body, headers } = answer(req);
      if (typeof body === 'string') {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
        res.end(body);
      } else {
        sendJson(res, status, body, headers);
      }
    });
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    answers = {};
    server.requests.length = 0;
  });

  const client = () => createFlansibleClient({ baseUrl: server.baseUrl + '/', username: 'ädmin', password: 'pässword:1', headers: { 'x-portal': 'ops' } });

  it('sends Basic auth (UTF-8 credentials) and the configured headers with every request', async () => {
    answers['GET /api/listplaybooks'] = () => ({ status: 200, body: [{ playbook: 'site.yml', playbook_dir: '/srv/playbooks/sample' }] });
    expect(await client().listPlaybooks()).toEqual([{ playbook: 'site.yml', playbook_dir: '/srv/playbooks/sample' }]);
    const [request] = server.requests;
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('ädmin:pässword:1', 'utf8').toString('base64')}`);
    expect(request.headers['x-portal']).toBe('ops');
  });

  it('sends no Authorization header without credentials', async () => {
    answers['GET /api/health'] = () => ({ status: 200, body: { status: 'ok', deployment: 'embedded' } });
    await createFlansibleClient({ baseUrl: server.baseUrl }).getHealth();
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  it('sends an API token as Bearer instead, and refuses to be given both', async () => {
    answers['GET /api/health'] = () => ({ status: 200, body: { status: 'ok', deployment: 'embedded' } });
    await createFlansibleClient({ baseUrl: server.baseUrl, token: 'flt_abc' }).getHealth();
    expect(server.requests[0].headers.authorization).toBe('Bearer flt_abc');
    expect(() => createFlansibleClient({ baseUrl: server.baseUrl, token: 'flt_abc', username: 'admin', password: 'admin' })).toThrow(
      'Give the Flansible client either a token or a username and password, not both',
    );
  });

  it('issues, lists and revokes API tokens', async () => {
    const listed = { id: 'tok-1', name: 'ops portal', user: 'ädmin', scope: 'run', created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-04-01T00:00:00.000Z', last_used_at: null };
    answers['POST /api/v1/tokens'] = () => ({ status: 201, body: { ...listed, token: 'flt_secret' } });
    answers['GET /api/v1/tokens'] = () => ({ status: 200, body: { items: [listed] } });
    answers['DELETE /api/v1/tokens/tok%201'] = () => ({ status: 204, body: '' });

    expect(await client().createToken({ name: 'ops portal', scope: 'run', expires_in_days: 30 })).toEqual({ ...listed, token: 'flt_secret' });
    expect(await client().listTokens()).toEqual({ items: [listed] });
    await client().listTokens({ user: 'bob' });
    await client().listTokens({ all: true });
    await expect(client().revokeToken('tok 1')).resolves.toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual([
      'POST /api/v1/tokens {"name":"ops portal","scope":"run","expires_in_days":30}',
      'GET /api/v1/tokens ',
      'GET /api/v1/tokens?user=bob ',
      'GET /api/v1/tokens?all=true ',
      'DELETE /api/v1/tokens/tok%201 ',
    ]);

    answers['DELETE /api/v1/tokens/gone'] = () => ({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Unknown API token gone' } });
    await expect(client().revokeToken('gone')).rejects.toMatchObject({ status: 404, body: { message: 'Unknown API token gone' } });
  });

  it('submits Flansible-style and answers the task id; module_args may be a key=value string', async () => {
    answers['POST /api/ansiblecommand'] = () => ({ status: 200, body: { task_id: 'task-1' } });
    answers['POST /api/ansibleplaybook'] = () => ({ status: 200, body: { task_id: 'task-2' } });
    answers['POST /api/git'] = () => ({ status: 200, body: { task_id: 'task-3' } });
    expect(await client().runCommand({ host_pattern: 'localhost', module: 'command', module_args: 'seq 1 3' })).toBe('task-1');
    expect(await client().runPlaybook({ playbook_dir: 'sample', playbook: 'site.yml', extra_vars: { greeting_name: 'ops' } })).toBe('task-2');
    expect(await client().updateGitRepo({ playbook_dir: 'repo', reset: true })).toBe('task-3');
    expect(server.requests.map((r) => [r.headers['content-type'], JSON.parse(r.body)])).toEqual([
      ['application/json', { host_pattern: 'localhost', module: 'command', module_args: 'seq 1 3' }],
      ['application/json', { playbook_dir: 'sample', playbook: 'site.yml', extra_vars: { greeting_name: 'ops' } }],
      ['application/json', { playbook_dir: 'repo', reset: true }],
    ]);
  });

  it('reads the task output as text and encodes ids in paths', async () => {
    answers['GET /api/ansibletaskoutput/a%2Fb%20c'] = () => ({ status: 200, body: 'PLAY [all]\nok\n' });
    expect(await client().getTaskOutput('a/b c')).toBe('PLAY [all]\nok\n');
  });

  it('reads an empty output as an empty string', async () => {
    answers['GET /api/ansibletaskoutput/quiet'] = () => ({ status: 200, body: '' });
    answers['GET /api/v1/jobs/quiet/output'] = () => ({ status: 200, body: '' });
    expect(await client().getTaskOutput('quiet')).toBe('');
    expect(await client().getJobOutputText('quiet')).toBe('');
    expect(await client().downloadJobOutput('quiet')).toBe('');
  });

  it('polls a task until its status is no longer PROGRESS', async () => {
    let polls = 0;
    answers['GET /api/ansibletaskstatus/t1'] = () => {
      polls++;
      return { status: 200, body: polls < 3 ? { Status: 'PROGRESS', description: 'running', returncode: null } : { Status: 'SUCCESS', description: '', returncode: 0 } };
    };
    expect(await client().waitForTask('t1', { intervalMs: 10 })).toEqual({ Status: 'SUCCESS', description: '', returncode: 0 });
    expect(polls).toBe(3);
  });

  it('gives up waiting with FlansibleTimeoutError, or with the signal\'s reason when aborted', async () => {
    const running = { id: 'j1', status: 'running' };
    answers['GET /api/v1/jobs/j1'] = () => ({ status: 200, body: running });
    const timeout = await client().waitForJob('j1', { intervalMs: 10, timeoutMs: 50 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(FlansibleTimeoutError);
    expect(timeout).toMatchObject({ last: running });

    const controller = new AbortController();
    const waiting = client().waitForJob('j1', { intervalMs: 10, signal: controller.signal });
    controller.abort(new Error('the user left'));
    await expect(waiting).rejects.toThrow('the user left');
  });

  it('waits for a v1 job to reach a terminal status', async () => {
    const states = ['queued', 'running', 'failed'];
    answers['GET /api/v1/jobs/j2'] = () => ({ status: 200, body: { id: 'j2', status: states.shift() ?? 'failed' } });
    expect(await client().waitForJob('j2', { intervalMs: 5 })).toMatchObject({ status: 'failed' });
  });

  it('sends the Idempotency-Key, list filters (comma-separated, ISO times) and output ranges', async () => {
    answers['POST /api/v1/jobs/playbook'] = () => ({ status: 202, body: { id: 'j3', status: 'queued' } });
    answers['GET /api/v1/jobs'] = () => ({ status: 200, body: { items: [], next_cursor: null, next: null } });
    answers['GET /api/v1/jobs/j3/output'] = (req) =>
      req.headers.accept === 'text/plain' ? { status: 200, body: '2\n3\n' } : { status: 200, body: { lines: ['2', '3'], start_line: 2, end_line: 3, total_lines: 9, complete: true } };
    answers['GET /api/v1/jobs/j3/events'] = () => ({ status: 200, body: { items: [], next_after: null } });

    await client().submitPlaybook({ playbook_dir: 'app', playbook: 'ok.yml', tags: ['web'] }, { idempotencyKey: 'deploy-1' });
    await client().listJobs({ status: ['failed', 'timed_out'], kind: 'playbook', created_after: new Date('2026-01-02T03:04:05Z'), limit: 20, cursor: 'abc_-' });
    expect(await client().getJobOutput('j3', { start_line: 2, end_line: 3 })).toMatchObject({ lines: ['2', '3'] });
    expect(await client().getJobOutputText('j3', { start_line: 2, end_line: 3 })).toBe('2\n3\n');
    await client().getJobEvents('j3', { type: ['host_failed', 'host_unreachable'], host: 'web1', after: 10, limit: 5 });

    const [submit, list, output, text, events] = server.requests;
    expect(submit.headers['idempotency-key']).toBe('deploy-1');
    expect(new URL(list.url, server.baseUrl).searchParams.toString()).toBe(
      new URLSearchParams({ kind: 'playbook', limit: '20', cursor: 'abc_-', status: 'failed,timed_out', created_after: '2026-01-02T03:04:05.000Z' }).toString(),
    );
    expect(output.url).toBe('/api/v1/jobs/j3/output?start_line=2&end_line=3');
    expect(output.headers.accept).toBe('application/json');
    expect(text.headers.accept).toBe('text/plain');
    expect(Object.fromEntries(new URL(events.url, server.baseUrl).searchParams)).toEqual({ after: '10', limit: '5', host: 'web1', type: 'host_failed,host_unreachable' });
  });

  it('relaunches a job on some of its hosts, with an Idempotency-Key, and rejects with the server\'s 409', async () => {
    answers['POST /api/v1/jobs/j%2F5/relaunch'] = (req) =>
      JSON.parse(req.body).hosts === 'unreachable'
        ? { status: 409, body: { statusCode: 409, error: 'Conflict', message: 'No host of job j/5 matches hosts=unreachable' } }
        : { status: 202, body: { id: 'j6', status: 'queued', relaunch_of: 'j/5' }, headers: { location: '/api/v1/jobs/j6' } };
    expect(await client().relaunchJob('j/5', 'failed', { idempotencyKey: 'retry-web' })).toMatchObject({ id: 'j6', relaunch_of: 'j/5' });
    await expect(client().relaunchJob('j/5', 'unreachable')).rejects.toMatchObject({ status: 409, body: { message: 'No host of job j/5 matches hosts=unreachable' } });
    const [relaunched, refused] = server.requests;
    expect([relaunched.method, relaunched.url, JSON.parse(relaunched.body), relaunched.headers['idempotency-key']]).toEqual(['POST', '/api/v1/jobs/j%2F5/relaunch', { hosts: 'failed' }, 'retry-web']);
    expect(refused.headers['idempotency-key']).toBeUndefined();
  });

  it('turns an error answer into FlansibleApiError with the server\'s error body', async () => {
    const body = { statusCode: 400, error: 'Bad Request', message: '2 problems', details: ['module must be a string', 'forks must not be greater than 500'] };
    answers['POST /api/v1/jobs/command'] = () => ({ status: 400, body });
    const error = await client().submitCommand({ module: 'ping', forks: 501 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlansibleApiError);
    expect(error).toMatchObject({ status: 400, body, details: body.details, method: 'POST', retryAfterSeconds: null });
    expect((error as Error).message).toBe('POST /api/v1/jobs/command answered 400 Bad Request: 2 problems');
    expect(isFlansibleApiError(error, 400)).toBe(true);
    expect(isFlansibleApiError(error, 404)).toBe(false);
    expect(isFlansibleApiError(new Error('x'))).toBe(false);
  });

  it('reads Retry-After from 429 and 503 answers', async () => {
    answers['POST /api/v1/jobs/j4/cancel'] = () => ({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'The job queue is unavailable' },
      headers: { 'retry-after': '5' },
    });
    await expect(client().cancelJob('j4')).rejects.toMatchObject({ status: 503, retryAfterSeconds: 5, body: { message: 'The job queue is unavailable' } });
  });

  it('makes up an error body when the answer is not Flansible\'s JSON (e.g. a proxy page)', async () => {
    answers['GET /api/v1/jobs/j5/summary'] = () => ({ status: 502, body: '<html>\n<h1>Bad gateway</h1></html>' });
    const error = await client().getJobSummary('j5').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, details: [], body: { statusCode: 502, error: 'Bad Gateway', message: '<html>' } });
  });

  it('goes through an injected fetch', async () => {
    const seen: string[] = [];
    const sdk = createFlansibleClient({
      baseUrl: server.baseUrl,
      fetch: async (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
        return new Response(JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'Unknown job' }), {
          status: 404,
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    await expect(sdk.getJob('nope')).rejects.toMatchObject({ status: 404, message: 'GET /api/v1/jobs/nope answered 404 Not Found: Unknown job' });
    expect(seen).toEqual(['GET /api/v1/jobs/nope']);
    expect(server.requests).toHaveLength(0);
  });

  it('subscribes, lists, reads, deletes webhooks and reads their delivery attempts', async () => {
    const webhook = { id: 'w1', url: 'https://hooks.example.com/f', events: ['job.finished'], owner: 'ädmin', created_at: '2026-01-01T00:00:00.000Z' };
    const attempt = { webhook_id: 'msg_x', type: 'job.finished', job_id: 'j1', attempt: 1, attempted_at: '2026-01-01T00:00:01.000Z', status_code: 500, error: 'HTTP 500', duration_ms: 12 };
    answers['POST /api/v1/webhooks'] = () => ({ status: 201, body: { ...webhook, secret: 'whsec_c2VjcmV0' }, headers: { location: '/api/v1/webhooks/w1' } });
    answers['GET /api/v1/webhooks'] = () => ({ status: 200, body: { items: [webhook] } });
    answers['GET /api/v1/webhooks/w1'] = () => ({ status: 200, body: webhook });
    answers['GET /api/v1/webhooks/w1/deliveries'] = () => ({ status: 200, body: { items: [attempt] } });
    answers['DELETE /api/v1/webhooks/w1'] = () => ({ status: 204, body: '' });

    expect(await client().createWebhook({ url: webhook.url, events: ['job.finished'] })).toEqual({ ...webhook, secret: 'whsec_c2VjcmV0' });
    expect(await client().listWebhooks()).toEqual([webhook]);
    expect(await client().getWebhook('w1')).toEqual(webhook);
    expect(await client().listWebhookDeliveries('w1', { limit: 5 })).toEqual([attempt]);
    expect(await client().deleteWebhook('w1')).toBeUndefined();
    const [create, , , deliveries, remove] = server.requests;
    expect([create.method, JSON.parse(create.body)]).toEqual(['POST', { url: webhook.url, events: ['job.finished'] }]);
    expect(deliveries.url).toBe('/api/v1/webhooks/w1/deliveries?limit=5');
    expect([remove.method, remove.url]).toEqual(['DELETE', '/api/v1/webhooks/w1']);

    answers['POST /api/v1/webhooks'] = () => ({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'url host 10.0.0.1 is a private address' } });
    await expect(client().createWebhook({ url: 'http://10.0.0.1/', events: ['job.finished'] })).rejects.toMatchObject({
      status: 400,
      body: { message: 'url host 10.0.0.1 is a private address' },
    });
  });
});
