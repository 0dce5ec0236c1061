import { execFileSync } from 'node:child_process';
import { createFlansibleClient, FlansibleApiError, isFlansibleApiError, JobStatus, JobStreamMessage } from '@flansible/sdk';
import { eventually } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { HeldStream, holdJobStream, readJobStream } from '../support/sse-client';

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
      env: {
        FLANSIBLE_IDLE_TIMEOUT: '6',
        FLANSIBLE_KILL_GRACE: '2',
        FLANSIBLE_RETENTION_INTERVAL: '1',
        FLANSIBLE_MAX_STREAMS_PER_USER: '3',
        FLANSIBLE_MAX_STREAMS: '4',
      },
    });
    const api = () => deployment.api;
    /** The v1 flows go through the SDK; api().lastSdkAnswer has the status and headers it does not return. */
    const sdk = () => deployment.api.sdk;
    const lastAnswer = () => deployment.api.lastSdkAnswer!;

    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    const waitForEnd = (id: string, timeoutMs = 60_000) => sdk().waitForJob(id, { timeoutMs, intervalMs: 100 });

    it('answers a submission with 202, the job resource and its Location', async () => {
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'ping', check: true, limit: 'localhost', timeout: 120, priority: 3 });
      expect(lastAnswer().status).toBe(202);
      expect(lastAnswer().headers.get('location')).toBe(`/api/v1/jobs/${job.id}`);
      expect(job).toMatchObject({ status: expect.stringMatching(/queued|running/), submitted_by: 'admin', priority: 3, url: `/api/v1/jobs/${job.id}` });
      const done = await waitForEnd(job.id);
      expect(done).toMatchObject({ status: 'successful', return_code: 0, reason: null, runner: expect.any(String) });
      expect(await api().output(job.id)).toContain('"ping": "pong"');
    });

    it('says how a finished job’s Ansible started: forked warm once the runner’s fork server is ready', async () => {
      const runner = kind === 'distributed' ? deployment.runners[0] : deployment.gateway;
      await runner.waitForLog(/Warm runner ready/);
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'ping' });
      expect(job.launch_path).toBeNull();
      expect(await waitForEnd(job.id)).toMatchObject({ status: 'successful', launch_path: 'warm' });
      expect(await api().output(job.id)).toContain('"ping": "pong"');
    });

    it('returns the same job for a retried submission with the same Idempotency-Key', async () => {
      const body = { host_pattern: 'localhost', module: 'ping' };
      const idempotencyKey = `retry-${kind}-${Date.now()}`;
      const first = await sdk().submitCommand(body, { idempotencyKey });
      expect(lastAnswer().status).toBe(202);
      const second = await sdk().submitCommand(body, { idempotencyKey });
      expect(lastAnswer().status).toBe(200);
      expect(second.id).toBe(first.id);
      await waitForEnd(first.id);
      const bad = await sdk().submitCommand(body, { idempotencyKey: 'has space' }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(FlansibleApiError);
      expect(bad).toMatchObject({ status: 400, body: { statusCode: 400, error: 'Bad Request' } });
    });

    it('binds an Idempotency-Key to its request: another body or endpoint answers 422 and stores nothing', async () => {
      const key = `bound-${kind}-${Date.now()}`;
      const submit = (path: string, json: unknown) =>
        api().request<{ id?: string; message?: string }>('POST', path, { json, headers: { 'idempotency-key': key } });
      const first = await submit('/api/v1/jobs/command', { host_pattern: 'localhost', module: 'ping', check: true });
      expect(first.status).toBe(202);
      const stored = await deployment.countJobs();
      for (const [path, json] of [
        ['/api/v1/jobs/command', { host_pattern: 'localhost', module: 'ping' }],
        ['/api/v1/jobs/command', { host_pattern: 'localhost', module: 'ping', check: false }],
        ['/api/v1/jobs/playbook', { playbook_dir: 'app', playbook: 'ok.yml' }],
      ] as const) {
        const reused = await submit(path, json);
        expect([path, json, reused.status]).toEqual([path, json, 422]);
        expect(reused.body).toEqual({
          statusCode: 422,
          error: 'Unprocessable Entity',
          message: `Idempotency-Key ${key} was used for a different request (POST /api/v1/jobs/command${path.endsWith('command') ? ' with another body' : ''}); send a new key for a new request`,
        });
      }
      expect(await deployment.countJobs()).toBe(stored);
      // The same request, whatever the order of its keys, is a retry.
      const retry = await submit('/api/v1/jobs/command', { check: true, module: 'ping', host_pattern: 'localhost' });
      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);
      await waitForEnd(first.body.id as string);
    });

    it('gives concurrent retries on one gateway the one job: each waits for the attempt before it, none gets 409', async () => {
      const key = `concurrent-${kind}-${Date.now()}`;
      const body = { host_pattern: 'localhost', module: 'ping' };
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => api().request<{ id: string }>('POST', '/api/v1/jobs/command', { json: body, headers: { 'idempotency-key': key } })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await waitForEnd(answers[0].body.id)).toMatchObject({ status: 'successful' });
    });

    it('lists history newest first with filters and keyset pagination', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await sdk().submitCommand({ host_pattern: 'localhost', module: 'ping' })).id);
      for (const id of ids) await waitForEnd(id);
      const page1 = await sdk().listJobs({ kind: 'command', status: 'successful', user: 'admin', limit: 2 });
      expect(lastAnswer().status).toBe(200);
      expect(page1.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
      const page2 = await sdk().listJobs({ kind: 'command', status: ['successful'], user: 'admin', limit: 2, cursor: page1.next_cursor ?? undefined });
      expect(page2.items[0].id).toBe(ids[0]);
      const none = await sdk().listJobs({ user: 'nobody' });
      expect(none.items).toEqual([]);
      await expect(sdk().listJobs({ limit: 501 })).rejects.toMatchObject({ status: 400 });
      await expect(sdk().listJobs({ status: 'bogus' as JobStatus })).rejects.toMatchObject({ status: 400 });
    });

    it('serves output as JSON line ranges, as text and as a download', async () => {
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'command', module_args: 'seq 1 500' });
      await waitForEnd(job.id);
      const all = (await api().output(job.id)).split('\n');
      const range = await sdk().getJobOutput(job.id, { start_line: 100, end_line: 199 });
      expect(range).toMatchObject({ start_line: 100, end_line: 199, complete: true });
      expect(range.lines).toEqual(all.slice(99, 199));
      expect(range.total_lines).toBeGreaterThanOrEqual(501);
      const text = await sdk().getJobOutputText(job.id, { start_line: 2, end_line: 3 });
      expect(lastAnswer().headers.get('content-type')).toMatch(/^text\/plain/);
      expect(text).toBe('1\n2\n');
      const download = await sdk().downloadJobOutput(job.id);
      expect(lastAnswer().headers.get('content-disposition')).toBe(`attachment; filename="job-${job.id}.log"`);
      expect(download).toBe(await api().output(job.id));
    });

    it('records structured events and a per-host summary', async () => {
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'events.yml' });
      expect(await waitForEnd(job.id)).toMatchObject({ status: 'successful' });
      const events = await sdk().getJobEvents(job.id, { limit: 1000 });
      const types = events.items.map((e) => e.type);
      expect(events.items.map((e) => e.counter)).toEqual(types.map((_, i) => i + 1));
      for (const type of ['playbook_start', 'play_start', 'task_start', 'host_ok', 'host_failed', 'host_skipped', 'item_ok', 'stats']) {
        expect(types).toContain(type);
      }
      expect(events.items.find((e) => e.type === 'host_ok' && e.task === 'events-changed')?.data.changed).toBe(true);
      // The human output stays what a terminal shows.
      expect(await api().output(job.id)).not.toContain('"type"');

      const page = await sdk().getJobEvents(job.id, { limit: 3 });
      expect(page.items.map((e) => e.counter)).toEqual([1, 2, 3]);
      const next = await sdk().getJobEvents(job.id, { after: page.next_after ?? undefined, limit: 2 });
      expect(next.items.map((e) => e.counter)).toEqual([4, 5]);
      const failed = await sdk().getJobEvents(job.id, { type: 'host_failed', host: 'localhost' });
      expect(failed.items.map((e) => [e.type, e.host])).toEqual([['host_failed', 'localhost']]);

      const summary = await sdk().getJobSummary(job.id);
      expect(summary.hosts).toEqual([
        expect.objectContaining({ host: 'localhost', changed: 1, failed: 0, unreachable: 0, skipped: 1, ignored: 1 }),
      ]);
    });

    it('runs only the tagged tasks of a playbook', async () => {
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'tagged.yml', tags: ['beta'] });
      await waitForEnd(job.id);
      const output = await api().output(job.id);
      expect(output).toContain('tagged-beta');
      expect(output).not.toContain('tagged-alpha');
    });

    it('streams output, events and status live over SSE, and resumes without loss or repeats', async () => {
      const body = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 2 } });
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

    it('follows a running job through the SDK, resuming after a dropped connection without loss or repeats', async () => {
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 2 } });
      // A client whose first stream connection breaks in the middle of its fourth message.
      const streamRequests: (string | null)[] = [];
      const flaky = createFlansibleClient({
        baseUrl: api().baseUrl,
        username: 'admin',
        password: 'admin',
        fetch: async (request) => {
          const response = await fetch(request);
          if (!new URL(request.url).pathname.endsWith('/stream')) return response;
          streamRequests.push(request.headers.get('last-event-id'));
          return streamRequests.length === 1 ? breakAfterMessages(response, 3) : response;
        },
      });
      const messages: JobStreamMessage[] = [];
      for await (const message of flaky.followJob(job.id, { reconnectDelayMs: 100 })) messages.push(message);

      // It reconnected once, from the last message it had whole.
      expect(streamRequests).toEqual([null, messages[2].id]);
      expect(messages[2].id).toMatch(/^\d+:\d+$/);

      const types = messages.map((m) => m.type);
      expect(types.filter((t) => t === 'end')).toEqual(['end']);
      expect(messages[messages.length - 1]).toEqual({ id: expect.any(String), type: 'end', data: { status: 'successful' } });
      const statuses = messages.flatMap((m) => (m.type === 'status' ? [m.data.status] : []));
      expect(statuses).toContain('running');
      expect(statuses[statuses.length - 1]).toBe('successful');
      // Lines arrived while the job ran, not only at its end.
      expect(types.indexOf('output')).toBeGreaterThanOrEqual(0);
      expect(types.indexOf('output')).toBeLessThan(types.lastIndexOf('status'));

      const outputs = messages.flatMap((m) => (m.type === 'output' ? [m.data] : []));
      const stored = (await api().output(job.id)).replace(/\n$/, '').split('\n');
      expect(outputs.flatMap((o) => o.lines)).toEqual(stored);
      // Each output message starts where the one before ended: no gap, no repeat.
      expect(outputs.map((o) => o.start_line)).toEqual(outputs.map((_, i) => 1 + outputs.slice(0, i).reduce((n, o) => n + o.lines.length, 0)));
      const counters = messages.flatMap((m) => (m.type === 'event' ? [m.data.counter] : []));
      expect(counters.length).toBeGreaterThan(0);
      expect(counters).toEqual(counters.map((_, i) => i + 1));
      expect(counters).toHaveLength((await sdk().getJob(job.id)).event_count);
    });

    it('refuses a stream beyond max_streams_per_user or max_streams with 429 before any event, and frees the slot of one that closes', async () => {
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', inventory: 'dev', extra_vars: { slow_seconds: 60 } });
      const admin = { user: 'admin', password: 'admin' };
      const devadmin = { user: 'devadmin', password: 'devpassword' };
      const held: HeldStream[] = [];
      try {
        for (let i = 0; i < 3; i++) held.push(await holdJobStream(api().baseUrl, job.id, admin));
        expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
        const perUser = await holdJobStream(api().baseUrl, job.id, admin);
        expect(perUser.status).toBe(429);
        expect(perUser.headers.get('content-type')).toMatch(/^application\/json/);
        expect(Number(perUser.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(perUser.body).toEqual({
          statusCode: 429,
          error: 'Too Many Requests',
          message: 'User admin already has 3 streams open (max_streams_per_user is 3); close one or try again later',
        });
        // Another user still gets one, up to max_streams for all users together.
        held.push(await holdJobStream(api().baseUrl, job.id, devadmin));
        expect(held[3].status).toBe(200);
        const total = await holdJobStream(api().baseUrl, job.id, devadmin);
        expect(total.status).toBe(429);
        expect(total.body).toMatchObject({ message: 'This gateway already has 4 streams open (max_streams is 4); try again later' });

        held.shift()?.close();
        const reopened = await eventually(async () => {
          const attempt = await holdJobStream(api().baseUrl, job.id, admin);
          return attempt.status === 200 ? attempt : null;
        }, 'the closed stream to give its slot back');
        held.push(reopened as HeldStream);
        expect(held.every((h) => !h.done)).toBe(true);
      } finally {
        for (const stream of held) stream.close();
        await sdk().cancelJob(job.id);
        await waitForEnd(job.id);
      }
    });

    it('ends an open stream once rbac.json no longer lets its user read the job, whose GET then answers 404', async () => {
      const devadmin = { user: 'devadmin', password: 'devpassword' };
      const entries = deployment.fixture.readRbac();
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', inventory: 'dev', extra_vars: { slow_seconds: 60 } });
      const revoked = await holdJobStream(api().baseUrl, job.id, devadmin);
      const kept = await holdJobStream(api().baseUrl, job.id, { user: 'admin', password: 'admin' });
      try {
        expect([revoked.status, kept.status]).toEqual([200, 200]);
        deployment.fixture.writeRbac(entries.map((entry) => (entry.user === 'devadmin' ? { ...entry, inventories: ['prod'] } : entry)));
        await eventually(async () => revoked.done, 'the stream to end', 15_000);
        expect(revoked.messages[revoked.messages.length - 1]).toEqual({
          id: undefined,
          event: 'closed',
          data: { reason: 'access revoked: devadmin may no longer read this job (rbac.json changed)' },
        });
        expect(revoked.messages.map((m) => m.event)).not.toContain('end');
        expect((await api().as(devadmin).get(`/api/v1/jobs/${job.id}`)).status).toBe(404);
        // Only the stream whose user lost the right ended; the job runs on.
        expect(kept.done).toBe(false);
        expect((await sdk().getJob(job.id)).status).toBe('running');
      } finally {
        revoked.close();
        kept.close();
        deployment.fixture.writeRbac(entries);
        await eventually(async () => (await api().as(devadmin).get(`/api/v1/jobs/${job.id}`)).status === 200, 'devadmin to read the job again', 10_000);
        await sdk().cancelJob(job.id);
        await waitForEnd(job.id);
      }
    });

    it('cancels a queued job so that it never starts', async () => {
      // Two slow jobs fill both runner slots; the third waits in the queue.
      const slow = { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 3 } };
      const busy = [(await sdk().submitPlaybook(slow)).id, (await sdk().submitPlaybook(slow)).id];
      const queued = (await sdk().submitCommand({ host_pattern: 'localhost', module: 'ping' })).id;
      const canceled = await sdk().cancelJob(queued);
      expect(lastAnswer().status).toBe(202);
      expect(canceled).toMatchObject({ status: 'canceled', started_at: null, reason: 'Canceled by admin' });
      for (const id of busy) await waitForEnd(id);
      expect(await sdk().getJob(queued)).toMatchObject({ status: 'canceled', started_at: null, runner: null });
    });

    it('cancels a running job and stops its whole process tree', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.5';
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}` });
      await eventually(async () => processesWith(`sleep ${marker}`).length > 0, 'the sleep to start', 30_000).catch(async (err: Error) => {
        // Once seen on a loaded CI machine: say where the job was.
        throw new Error(`${err.message}; the job: ${JSON.stringify(await sdk().getJob(job.id))}`);
      });
      await sdk().cancelJob(job.id);
      expect(lastAnswer().status).toBe(202);
      expect(await waitForEnd(job.id, 30_000)).toMatchObject({ status: 'canceled', reason: 'Canceled by admin' });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      // Terminal states are final.
      expect((await sdk().cancelJob(job.id)).status).toBe('canceled');
    });

    it('times a job out after its own timeout, leaving no process behind', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.25';
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}`, timeout: 2 });
      expect(await waitForEnd(job.id, 30_000)).toMatchObject({ status: 'timed_out', reason: expect.stringMatching(/timed out/i) });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
      expect((await api().status(job.id)).Status).toBe('FLANSIBLE_TASK_FAILURE');
    });

    it('times a job out when it prints nothing for the idle timeout', async () => {
      const marker = String(1000 + Math.floor(Math.random() * 8000)) + '.75';
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'command', module_args: `sleep ${marker}` });
      expect(await waitForEnd(job.id, 30_000)).toMatchObject({ status: 'timed_out', reason: expect.stringMatching(/no output/i) });
      expect(processesWith(`sleep ${marker}`)).toEqual([]);
    });

    it('purges jobs older than the retention period', async () => {
      const job = await sdk().submitCommand({ host_pattern: 'localhost', module: 'ping' });
      await waitForEnd(job.id);
      await deployment.ageJob(job.id, 31);
      const gone = async () => isFlansibleApiError(await sdk().getJob(job.id).catch((e: unknown) => e), 404);
      await eventually(gone, 'the old job to be purged', 15_000);
    });
  });
}

/**
 * Passes a Server-Sent Events answer through until `messages` whole messages (and the first bytes
 * of the next) have gone by, then breaks it the way a dropped connection does.
 */
function breakAfterMessages(response: Response, messages: number): Response {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let passed = '';
  let broken = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (broken) {
        controller.error(new TypeError('terminated: the connection was dropped'));
        await reader.cancel();
        return;
      }
      const { value, done } = await reader.read();
      if (done) return controller.close();
      const text = decoder.decode(value, { stream: true });
      const end = endOfMessage(passed + text, messages);
      if (end === -1) {
        passed += text;
        controller.enqueue(encoder.encode(text));
        return;
      }
      // Up to the end of the last whole message, and a few bytes into the next one.
      controller.enqueue(encoder.encode((passed + text).slice(passed.length, end + 8)));
      broken = true; // the next read fails
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Where the n-th message with data ends in a Server-Sent Events text, or -1. */
function endOfMessage(text: string, n: number): number {
  let count = 0;
  let start = 0;
  for (let at = text.indexOf('\n\n'); at !== -1; at = text.indexOf('\n\n', start)) {
    if (/^data:/m.test(text.slice(start, at)) && ++count === n) return at + 2;
    start = at + 2;
  }
  return -1;
}
