import type { ServerResponse } from 'node:http';
import { createFlansibleClient, FlansibleApiError, FlansibleStreamError, JobStreamMessage } from './index';
import { eventually } from '@flansible/testing';
import { LocalServer, RecordedRequest, sendJson } from './testing/local-server';

/** A finished job as the server's store holds it. */
const LINES = ['PLAY [all]', 'TASK [one]', 'ok: [localhost]', 'TASK [two]', 'changed: [localhost]', 'PLAY RECAP'];
const EVENTS = [1, 2, 3].map((counter) => ({ counter, type: 'host_ok', host: 'localhost', task: `task-${counter}`, data: {}, created_at: '2026-01-01T00:00:00.000Z' }));
/** How the job unfolds: line and event counts after each step, as the real stream sends them. */
const STEPS: { lines: number; events: number }[] = [
  { lines: 2, events: 0 },
  { lines: 2, events: 1 },
  { lines: 3, events: 1 },
  { lines: 5, events: 2 },
  { lines: 6, events: 3 },
];

/** What one connection does: end normally, or stop after `after` messages (cut mid-message, closed cleanly, or silent). */
type Behaviour = { kind: 'complete' } | { kind: 'drop' | 'close' | 'hang'; after: number } | { kind: 'status'; status: number };

/** Writes the job's messages from the client's Last-Event-ID on, like the gateway's JobStreamService. */
async function serveStream(req: RecordedRequest, res: ServerResponse, behaviour: Behaviour): Promise<void> {
  if (behaviour.kind === 'status') {
    return sendJson(res, behaviour.status, { statusCode: behaviour.status, error: 'Refused', message: `refused with ${behaviour.status}` });
  }
  const [lines, events] = String(req.headers['last-event-id'] ?? '0:0').split(':').map(Number);
  const cursor = { lines, events };
  const messages: string[] = [];
  const message = (event: string, data: unknown) => messages.push(`id: ${cursor.lines}:${cursor.events}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  message('status', { status: 'running', reason: null, return_code: null });
  for (const step of STEPS) {
    if (step.lines > cursor.lines) {
      const start = cursor.lines + 1;
      cursor.lines = step.lines;
      message('output', { start_line: start, lines: LINES.slice(start - 1, step.lines) });
    }
    while (cursor.events < step.events) {
      cursor.events++;
      message('event', EVENTS[cursor.events - 1]);
    }
  }
  message('status', { status: 'successful', reason: null, return_code: 0 });
  message('end', { status: 'successful' });

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const write = (text: string) => new Promise<void>((resolve) => res.write(text, () => resolve()));
  await write('retry: 5\n\n: a comment\n\n');
  if (behaviour.kind === 'complete') {
    for (const text of messages) await write(text);
    return void res.end();
  }
  for (const text of messages.slice(0, behaviour.after)) await write(text);
  if (behaviour.kind === 'drop') {
    // Half of the next message, then the connection breaks.
    const next = messages[behaviour.after];
    await write(next.slice(0, Math.floor(next.length / 2)));
    res.socket?.destroy();
  } else if (behaviour.kind === 'close') {
    res.end();
  } // 'hang': headers and some messages, then silence
}

describe('followJob', () => {
  let server: LocalServer;
  let plan: Behaviour[];
  const closed: number[] = [];

  beforeAll(async () => {
    server = await LocalServer.start(async (req, res, raw) => {
      const index = server.requests.length - 1;
      raw.on('close', () => closed.push(index));
      if (req.url !== '/api/v1/jobs/job-1/stream') return sendJson(res, 404, { statusCode: 404, error: 'Not Found', message: 'Unknown job' });
      await serveStream(req, res, plan.shift() ?? { kind: 'complete' });
    });
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    closed.length = 0;
  });

  const client = () => createFlansibleClient({ baseUrl: server.baseUrl, username: 'admin', password: 'admin' });
  const collect = async (iterator: AsyncIterable<JobStreamMessage>) => {
    const messages: JobStreamMessage[] = [];
    for await (const message of iterator) messages.push(message);
    return messages;
  };
  const linesOf = (messages: JobStreamMessage[]) => messages.flatMap((m) => (m.type === 'output' ? m.data.lines : []));
  const countersOf = (messages: JobStreamMessage[]) => messages.flatMap((m) => (m.type === 'event' ? [m.data.counter] : []));

  it('yields output, events, status and end, typed, with their ids', async () => {
    plan = [{ kind: 'complete' }];
    const messages = await collect(client().followJob('job-1'));
    expect(messages.map((m) => m.type)).toEqual(['status', 'output', 'event', 'output', 'output', 'event', 'output', 'event', 'status', 'end']);
    expect(messages[1]).toEqual({ id: '2:0', type: 'output', data: { start_line: 1, lines: ['PLAY [all]', 'TASK [one]'] } });
    expect(messages[messages.length - 1]).toEqual({ id: '6:3', type: 'end', data: { status: 'successful' } });
    expect(linesOf(messages)).toEqual(LINES);
    expect(server.requests[0].headers).toMatchObject({ accept: 'text/event-stream', authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` });
    expect(server.requests[0].headers['last-event-id']).toBeUndefined();
  });

  it('resumes after a connection dropped mid-message, from the last complete message, without loss or repeats', async () => {
    plan = [{ kind: 'drop', after: 4 }, { kind: 'complete' }];
    const messages = await collect(client().followJob('job-1'));
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '3:1']);
    expect(linesOf(messages)).toEqual(LINES);
    expect(countersOf(messages)).toEqual([1, 2, 3]);
    expect(messages[messages.length - 1].type).toBe('end');
  });

  it('resumes when the server closes the stream before the end, and from a given lastEventId', async () => {
    plan = [{ kind: 'close', after: 3 }, { kind: 'drop', after: 2 }, { kind: 'complete' }];
    const messages = await collect(client().followJob('job-1', { lastEventId: '1:0' }));
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual(['1:0', '2:1', '3:1']);
    expect(linesOf(messages)).toEqual(LINES.slice(1));
    expect(countersOf(messages)).toEqual([1, 2, 3]);
  });

  it('reconnects when the stream stalls', async () => {
    plan = [{ kind: 'hang', after: 2 }, { kind: 'complete' }];
    const messages = await collect(client().followJob('job-1', { stallTimeoutMs: 200 }));
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '2:0']);
    expect(linesOf(messages)).toEqual(LINES);
  });

  it('retries while the server is unavailable (503), but not when it refuses (404)', async () => {
    plan = [{ kind: 'status', status: 503 }, { kind: 'complete' }];
    expect(linesOf(await collect(client().followJob('job-1', { reconnectDelayMs: 5 })))).toEqual(LINES);
    expect(server.requests).toHaveLength(2);

    server.requests.length = 0;
    const error = await collect(client().followJob('unknown')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlansibleApiError);
    expect(error).toMatchObject({ status: 404, body: { message: 'Unknown job' } });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after maxReconnects attempts in a row without a message, saying where to resume', async () => {
    plan = [{ kind: 'drop', after: 2 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }];
    const received: JobStreamMessage[] = [];
    const error = await (async () => {
      for await (const message of client().followJob('job-1', { maxReconnects: 2, reconnectDelayMs: 1 })) received.push(message);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlansibleStreamError);
    expect(error).toMatchObject({ lastEventId: '2:0' });
    expect(received.map((m) => m.id)).toEqual(['0:0', '2:0']);
    expect(server.requests).toHaveLength(3); // the first connection and two reconnections
    plan = [];
  });

  it('closes the connection when the caller stops early, and stops with the signal\'s reason', async () => {
    plan = [{ kind: 'hang', after: 3 }];
    for await (const message of client().followJob('job-1')) {
      if (message.type === 'output') break;
    }
    await eventually(() => closed.includes(0), 'the first stream to close', 5_000);

    plan = [{ kind: 'hang', after: 1 }];
    const controller = new AbortController();
    const following = collect(client().followJob('job-1', { signal: controller.signal }));
    await eventually(() => server.requests.length === 2, 'the stream to reconnect', 5_000);
    controller.abort(new Error('the page was closed'));
    await expect(following).rejects.toThrow('the page was closed');
    await eventually(() => closed.includes(1), 'the second stream to close', 5_000);
  });
});
