import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { createServer, get, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { JobKind, JobStatus } from '@flansible/contracts';
import { InProcessJobNoticeBus } from '@flansible/queue';
import { createJobStore, JobStore } from '@flansible/store';
import { eventually } from '@flansible/testing';
import { FeedSubscriber, JobFeed, STALLED_STREAM_BYTES } from './job-feed';

/** Just what a feed uses of an HTTP response: writes, end and the close event. */
class FakeResponse extends EventEmitter {
  text = '';
  closed = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  end(): void {
    this.closed = true;
    this.emit('close');
  }
  /** The messages written so far, parsed. */
  messages(): { id?: string; event?: string; data?: unknown }[] {
    return this.text
      .split('\n\n')
      .filter((block) => /^event: /m.test(block))
      .map((block) => {
        const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1];
        return { id: field('id'), event: field('event'), data: JSON.parse(field('data') ?? 'null') as unknown };
      });
  }
  lines(): string[] {
    return this.messages()
      .filter((m) => m.event === 'output')
      .flatMap((m) => (m.data as { lines: string[] }).lines);
  }
}

/** Streams follow within milliseconds: look often, give up after 20 s. */
const until = (check: () => boolean, what: string) => eventually(check, what, { timeoutMs: 20_000, intervalMs: 5 });

/**
 * toEqual for long arrays of lines, without Jest's deep equality walking 400,000 strings (seconds
 * of CPU): equal unless some index differs, and then the lines around the first difference fail.
 */
function expectSameLines(actual: string[], expected: string[]): void {
  const first = expected.findIndex((line, i) => actual[i] !== line);
  const at = first === -1 ? Math.min(actual.length, expected.length) : first;
  expect(actual.slice(at, at + 3)).toEqual(expected.slice(at, at + 3));
  expect(actual).toHaveLength(expected.length);
}

describe('JobFeed', () => {
  let root: string;
  let store: JobStore;
  const bus = new InProcessJobNoticeBus();
  const logger = new Logger('JobFeed spec');

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'flansible-feed-'));
    store = createJobStore({ dataDir: root, databaseUrl: null });
    await store.migrate();
  });

  afterAll(async () => {
    await store.close();
    await bus.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function runningJob(): Promise<string> {
    const id = randomUUID();
    await store.createJob({ id, submittedBy: 'alice', createdAt: new Date(), spec: { kind: JobKind.Command, inventoryPath: '/inv', hostPattern: 'all', module: 'ping' } });
    await store.claimJob(id, 'runner-1', new Date());
    return id;
  }

  function subscriber(lines = 0, events = 0): FeedSubscriber & { res: Response; fake: FakeResponse; ended: boolean } {
    const fake = new FakeResponse();
    return { user: 'alice', res: fake as unknown as Response, fake, cursor: { lines, events }, lastStatus: null, lastWrite: Date.now(), ended: false, onEnd: () => undefined };
  }

  it("reads the store once per notice for all of a job's streams, each from its own cursor", async () => {
    const id = await runningJob();
    await store.appendOutput(id, 'one\ntwo\n');
    const feed = new JobFeed(id, { submittedBy: 'alice', inventory: '/inv' }, store, bus, logger, () => undefined);
    const streams = Array.from({ length: 100 }, () => subscriber());
    const resumed = subscriber(1, 0);
    for (const s of [...streams, resumed]) feed.add(s);
    await until(() => [...streams, resumed].every((s) => s.fake.lines().length >= 1 && s.lastStatus === JobStatus.Running), 'every stream to catch up');
    expect(streams[0].fake.lines()).toEqual(['one', 'two']);
    expect(resumed.fake.lines()).toEqual(['two']);

    const findJob = jest.spyOn(store, 'findJob');
    const readOutputLines = jest.spyOn(store, 'readOutputLines');
    await store.appendOutput(id, 'three\n');
    bus.notify({ jobId: id, what: 'output' });
    await until(() => [...streams, resumed].every((s) => s.fake.lines().includes('three')), 'the new line to reach every stream');
    // One read of the row and one of the new line for 101 streams (the safety poll may add one).
    expect(findJob.mock.calls.length).toBeLessThanOrEqual(2);
    expect(readOutputLines.mock.calls.length).toBeLessThanOrEqual(2);
    expect(streams[99].fake.messages().at(-1)).toMatchObject({ id: '3:0', event: 'output', data: { start_line: 3, lines: ['three'] } });
    findJob.mockRestore();
    readOutputLines.mockRestore();
    for (const s of [...streams, resumed]) s.fake.end();
  });

  it('ends every stream after the terminal status, and stops reading once the last one has left', async () => {
    const id = await runningJob();
    let emptied = 0;
    const feed = new JobFeed(id, { submittedBy: 'alice', inventory: '/inv' }, store, bus, logger, () => emptied++);
    const [a, b] = [subscriber(), subscriber()];
    feed.add(a);
    feed.add(b);
    await until(() => a.lastStatus === JobStatus.Running && b.lastStatus === JobStatus.Running, 'both to see the job running');
    await store.appendOutput(id, 'last\n');
    await store.completeJob(id, { status: JobStatus.Successful, reason: null, returnCode: 0 }, new Date());
    bus.notify({ jobId: id, what: 'status' });
    await until(() => a.fake.closed && b.fake.closed, 'both streams to end');
    for (const s of [a, b]) {
      expect(s.fake.messages().map((m) => m.event)).toEqual(['status', 'output', 'status', 'end']);
      expect(s.fake.lines()).toEqual(['last']);
    }
    expect(emptied).toBe(1);
    expect(feed.size).toBe(0);
  });

  it("closes one stream with a reason, leaving the job's other streams open", async () => {
    const id = await runningJob();
    const feed = new JobFeed(id, { submittedBy: 'alice', inventory: '/inv' }, store, bus, logger, () => undefined);
    const [kept, revoked] = [subscriber(), subscriber()];
    feed.add(kept);
    feed.add(revoked);
    await until(() => kept.lastStatus !== null && revoked.lastStatus !== null, 'both to start');
    feed.close(revoked, 'access revoked: alice may no longer read this job');
    expect(revoked.fake.closed).toBe(true);
    expect(revoked.fake.messages().at(-1)).toEqual({ id: undefined, event: 'closed', data: { reason: 'access revoked: alice may no longer read this job' } });
    expect(kept.fake.closed).toBe(false);
    expect(feed.size).toBe(1);
    kept.fake.end();
    expect(feed.size).toBe(0);
  });

  it('holds a bounded amount for each stalled reader of a large output, and each resumes to receive every line once', async () => {
    const LINES = 400_000;
    const id = await runningJob();
    const numbers = Array.from({ length: LINES }, (_, i) => `line ${i + 1} of the long job`);
    for (let i = 0; i < LINES; i += 50_000) await store.appendOutput(id, numbers.slice(i, i + 50_000).join('\n') + '\n');
    await store.completeJob(id, { status: JobStatus.Successful, reason: null, returnCode: 0 }, new Date());

    // Real sockets: the server side is what the gateway buffers, the clients stop reading.
    const responses: ServerResponse[] = [];
    const feed = new JobFeed(id, { submittedBy: 'alice', inventory: '/inv' }, store, bus, logger, () => undefined);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      responses.push(res);
      feed.add({ user: 'alice', res: res as unknown as Response, cursor: { lines: 0, events: 0 }, lastStatus: null, lastWrite: Date.now(), ended: false, onEnd: () => undefined });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.pause();
        resolve(res);
      }))),
    );
    try {
      await until(() => responses.length === 5 && responses.every((res) => res.writableLength >= STALLED_STREAM_BYTES), 'every stream to stall');
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // two safety polls: nothing more is queued
      for (const res of responses) expect(res.writableLength).toBeLessThan(1024 * 1024);

      const texts = clients.map((client) => new Promise<string>((resolve) => {
        let text = '';
        client.setEncoding('utf8');
        client.on('data', (chunk: string) => (text += chunk));
        client.on('end', () => resolve(text));
        client.resume();
      }));
      for (const text of await Promise.all(texts)) {
        const fake = new FakeResponse();
        fake.text = text;
        expectSameLines(fake.lines(), numbers);
        expect(fake.messages().map((m) => m.event).slice(-2)).toEqual(['status', 'end']);
      }
    } finally {
      for (const client of clients) client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});
