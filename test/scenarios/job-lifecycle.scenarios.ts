import { execFileSync } from 'node:child_process';
import { eventually } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { readJobStream } from '../support/sse-client';

interface JobResource {
  id: string;
  status: string;
  reason: string | null;
  return_code: number | null;
  started_at: string | null;
  runner: string | null;
  url: string;
  cancel_requested_at: string | null;
}

const TERMINAL = ['successful', 'failed', 'canceled', 'timed_out', 'error'];

/** Processes whose command line holds `marker` (a unique sleep length): none may outlive its job. */
function processesWith(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/**
 * The v1 job lifecycle, the same in both deployments: submission, history, output ranges,
 * events, summary, live stream, cancel, timeouts, retention.
 */
export function describeJobLifecycle(kind: DeploymentKind): void {
  describe(`job lifecycle (${kind})`, () => {
    const deployment = new Deployment(kind, {
      runners: 1,
      runnerConcurrency: 2,
      env: { FLANSIBLE_IDLE_TIMEOUT: '6', FLANSIBLE_KILL_GRACE: '2', FLANSIBLE_RETENTION_INTERVAL: '1' },
    });
    const api = () => deployment.api;

    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    const submit = async (path: 'command' | 'playbook', body: unknown, headers: Record<string, string> = {}) => {
      const res = await api().request<JobResource>('POST', `/api/v1/jobs/${path}`, { json: body, headers });
      if (res.status !== 202 && res.status !== 200) throw new Error(`submit answered ${res.status}: ${res.text}`);
      return res;
    };
    const job = async (id: string) => (await api().get<JobResource>(`/api/v1/jobs/${id}`)).body;
    const waitForEnd = (id: string, timeoutMs = 60_000) =>
      eventually(async () => {
        const j = await job(id);
        return TERMINAL.includes(j.status) ? j : null;
      }, `job ${id} to end`, timeoutMs);

    it('answers a submission with 202, the job resource and its Location', async () => {
      const res = await submit('command', { host_pattern: 'localhost', module: 'ping', check: true, limit: 'localhost', timeout: 120, priority: 3 });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/api/v1/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({ status: expect.stringMatching(/queued|running/), submitted_by: 'admin', priority: 3, url: `/api/v1/jobs/${res.body.id}` });
      const done = await waitForEnd(res.body.id);
      expect(done).toMatchObject({ status: 'successful', return_code: 0, reason: null, runner: expect.any(String) });
      expect(await api().output(res.body.id)).toContain('"ping": "pong"');
    });

    it('returns the same job for a retried submission with the same Idempotency-Key', async () => {
      const body = { host_pattern: 'localhost', module: 'ping' };
      const key = { 'idempotency-key': `retry-${kind}-${Date.now()}` };
      const first = await submit('command', body, key);
      const second = await submit('command', body, key);
      expect(first.status).toBe(202);
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      await waitForEnd(first.body.id);
      const bad = await api().request('POST', '/api/v1/jobs/command', { json: body, headers: { 'idempotency-key': 'has space' } });
      expect(bad.status).toBe(400);
    });

    it('lists history newest first with filters and keyset pagination', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await submit('command', { host_pattern: 'localhost', module: 'ping' })).body.id);
      for (const id of ids) await waitForEnd(id);
      const page1 = await api().get<{ items: JobResource[]; next_cursor: string | null }>('/api/v1/jobs?kind=command&status=successful&user=admin&limit=2');
      expect(page1.status).toBe(200);
      expect(page1.body.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
      const page2 = await api().get<{ items: JobResource[] }>(`/api/v1/jobs?kind=command&status=successful&user=admin&limit=2&cursor=${page1.body.next_cursor}`);
      expect(page2.body.items[0].id).toBe(ids[0]);
      const none = await api().get<{ items: JobResource[] }>('/api/v1/jobs?user=nobody');
      expect(none.body.items).toEqual([]);
      expect((await api().get('/api/v1/jobs?limit=501')).status).toBe(400);
      expect((await api().get('/api/v1/jobs?status=bogus')).status).toBe(400);
    });

    it('serves output as JSON line ranges, as text and as a download', async () => {
      const { body } = await submit('command', { host_pattern: 'localhost', module: 'command', module_args: 'seq 1 500' });
      await waitForEnd(body.id);
      const all = (await api().output(body.id)).split('\n');
      const range = await api().get<{ start_line: number; end_line: number; total_lines: number; lines: string[]; complete: boolean }>(
        `/api/v1/jobs/${body.id}/output?start_line=100&end_line=199`,
      );
      expect(range.body).toMatchObject({ start_line: 100, end_line: 199, complete: true });
      expect(range.body.lines).toEqual(all.slice(99, 199));
      expect(range.body.total_lines).toBeGreaterThanOrEqual(501);
      const text = await api().request('GET', `/api/v1/jobs/${body.id}/output?start_line=2&end_line=3`, { headers: { accept: 'text/plain' } });
      expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(text.text).toBe('1\n2\n');
      const download = await api().get(`/api/v1/jobs/${body.id}/output?download=true`);
      expect(download.headers.get('content-disposition')).toBe(`attachment; filename="job-${body.id}.log"`);
      expect(download.text).toBe(await api().output(body.id));
    });

    it('records structured events and a per-host summary', async () => {
      const { body } = await submit('playbook', { playbook_dir: 'app', playbook: 'events.yml' });
      expect(await waitForEnd(body.id)).toMatchObject({ status: 'successful' });
      const events = await api().get<{ items: { counter: number; type: string; host: string | null; task: string | null; data: Record<string, unknown> }[] }>(
        `/api/v1/jobs/${body.id}/events?limit=1000`,
      );
      const types = events.body.items.map((e) => e.type);
      expect(events.body.items.map((e) => e.counter)).toEqual(types.map((_, i) => i + 1));
      for (const type of ['playbook_start', 'play_start', 'task_start', 'host_ok', 'host_failed', 'host_skipped', 'item_ok', 'stats']) {
        expect(types).toContain(type);
      }
      expect(events.body.items.find((e) => e.type === 'host_ok' && e.task === 'events-changed')?.data.changed).toBe(true);
      // The human output stays what a terminal shows.
      expect(await api().output(body.id)).not.toContain('"type"');

      const page = await api().get<{ items: { counter: number }[]; next_after: number | null }>(`/api/v1/jobs/${body.id}/events?limit=3`);
      expect(page.body.items.map((e) => e.counter)).toEqual([1, 2, 3]);
      const next = await api().get<{ items: { counter: number }[] }>(`/api/v1/jobs/${body.id}/events?after=${page.body.next_after}&limit=2`);
      expect(next.body.items.map((e) => e.counter)).toEqual([4, 5]);
      const failed = await api().get<{ items: { type: string; host: string }[] }>(`/api/v1/jobs/${body.id}/events?type=host_failed&host=localhost`);
      expect(failed.body.items.map((e) => [e.type, e.host])).toEqual([['host_failed', 'localhost']]);

      const summary = await api().get<{ hosts: Record<string, number | string>[] }>(`/api/v1/jobs/${body.id}/summary`);
      expect(summary.body.hosts).toEqual([
        expect.objectContaining({ host: 'localhost', changed: 1, failed: 0, unreachable: 0, skipped: 1, ignored: 1 }),
      ]);
    });

    it('runs only the tagged tasks of a playbook', async () => {
      const { body } = await submit('playbook', { playbook_dir: 'app', playbook: 'tagged.yml', tags: ['beta'] });
      await waitForEnd(body.id);
      const output = await api().output(body.id);
      expect(output).toContain('tagged-beta');
      expect(output).not.toContain('tagged-alpha');
    });

    it('streams output, events and status live over SSE, and resumes without loss or repeats', async () => {
      const { body } = await submit('playbook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 2 } });
      const full = await readJobStream(api().baseUrl, body.id, { user: 'admin', password: 'admin' });
      expect(full.status).toBe(200);
      expect(full.contentType).toMatch(/^text\/event-stream/);
      const kinds = full.messages.map((m) => m.event);
      expect(kinds[kinds.length - 1]).toBe('end');
      const statuses = full.messages.filter((m) => m.event === 'status').map((m) => (m.data as { status: string }).status);
      expect(statuses[statuses.length - 1]).toBe('successful');
      const streamedLines = full.messages.filter((m) => m.event === 'output').flatMap((m) => (m.data as { lines: string[] }).lines);
      const stored = (await api().output(body.id)).replace(/\n$/, '').split('\n');
      expect(streamedLines).toEqual(stored);
      const streamedEvents = full.messages.filter((m) => m.event === 'event').map((m) => (m.data as { counter: number }).counter);
      expect(streamedEvents).toEqual(streamedEvents.map((_, i) => i + 1));

      // Drop the connection part-way and resume from the last id received.
      const part = await readJobStream(api().baseUrl, body.id, { user: 'admin', password: 'admin' }, { stopAfter: 4 });
      const rest = await readJobStream(api().baseUrl, body.id, { user: 'admin', password: 'admin' }, { lastEventId: part.messages[3].id });
      const resumed = [...part.messages, ...rest.messages];
      const resumedLines = resumed.filter((m) => m.event === 'output').flatMap((m) => (m.data as { lines: string[] }).lines);
      const resumedEvents = resumed.filter((m) => m.event === 'event').map((m) => (m.data as { counter: number }).counter);
      expect(resumedLines).toEqual(stored);
      expect(resumedEvents).toEqual(streamedEvents);

      const forbidden = await readJobStream(api().baseUrl, body.id, { user: 'produser', password: 'prodpassword' });
      expect(forbidden.status).toBe(404);
    });

    it('cancels a queued job so that it never starts', async () => {
      // Two slow jobs fill both runner slots; the third waits in the queue.
      const slow = { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } };
      const busy = [(await submit('playbook', slow)).body.id, (await submit('playbook', slow)).body.id];
      const queued = (await submit('command', { host_pattern: 'localhost', module: 'ping' })).body.id;
      const res = await api().post<JobResource>(`/api/v1/jobs/${queued}/cancel`, {});
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'canceled', started_at: null, reason: 'Canceled by admin' });
      for (const id of busy) await waitForEnd(id);
      expect(await job(queued)).toMatchObject({ status: 'canceled', started_at: null, runner: null });
    });

    it('cancels a running job and stops its whole process tree', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.5';
      const { body } = await submit('command', { host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}` });
      await eventually(async () => processesWith(`sleep ${marker}`).length > 0, 'the sleep to start');
      const res = await api().post<JobResource>(`/api/v1/jobs/${body.id}/cancel`, {});
      expect(res.status).toBe(202);
      expect(await waitForEnd(body.id, 30_000)).toMatchObject({ status: 'canceled', reason: 'Canceled by admin' });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      // Terminal states are final.
      expect((await api().post<JobResource>(`/api/v1/jobs/${body.id}/cancel`, {})).body.status).toBe('canceled');
    });

    it('times a job out after its own timeout, leaving no process behind', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.25';
      const { body } = await submit('command', { host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}`, timeout: 2 });
      expect(await waitForEnd(body.id, 30_000)).toMatchObject({ status: 'timed_out', reason: expect.stringMatching(/timed out/i) });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      expect((await api().status(body.id)).Status).toBe('FLANSIBLE_TASK_FAILURE');
    });

    it('times a job out when it prints nothing for the idle timeout', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.75';
      const { body } = await submit('command', { host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}` });
      expect(await waitForEnd(body.id, 30_000)).toMatchObject({ status: 'timed_out', reason: expect.stringMatching(/no output/i) });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
    });

    it('purges jobs older than the retention period', async () => {
      const { body } = await submit('command', { host_pattern: 'localhost', module: 'ping' });
      await waitForEnd(body.id);
      await deployment.ageJob(body.id, 31);
      await eventually(async () => (await api().get(`/api/v1/jobs/${body.id}`)).status === 404, 'the old job to be purged', 15_000);
    });
  });
}
