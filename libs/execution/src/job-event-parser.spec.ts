import { JobEventType, NewJobEvent } from '@flansible/contracts';
import { EventBatcher } from './event-batcher';
import { JobEventLineReader, parseJobEventLine } from './job-event-parser';

const line = (value: object) => `${JSON.stringify(value)}\n`;

describe('parseJobEventLine', () => {
  it('reads the plugin’s JSON line, with the plugin’s own time', () => {
    expect(
      parseJobEventLine('{"type": "host_ok", "host": "web1", "task": "ping", "at": 1700000000.25, "data": {"changed": true}}'),
    ).toEqual({
      type: JobEventType.HostOk,
      host: 'web1',
      task: 'ping',
      data: { changed: true },
      createdAt: new Date(1700000000250),
    });
  });

  it('takes the time of reading when the line has none', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseJobEventLine('{"type": "stats", "host": null, "task": null}', () => now)).toEqual({
      type: JobEventType.Stats,
      host: null,
      task: null,
      data: {},
      createdAt: now,
    });
  });

  it.each([
    ['not JSON', 'PLAY [all] ****'],
    ['an array', '[1, 2]'],
    ['an unknown type', '{"type": "host_exploded", "host": null, "task": null, "data": {}}'],
    ['a host that is not a string', '{"type": "host_ok", "host": 5, "task": null, "data": {}}'],
    ['data that is not an object', '{"type": "host_ok", "host": "a", "task": null, "data": "x"}'],
  ])('refuses %s', (_what, text) => {
    expect(parseJobEventLine(text)).toBeNull();
  });
});

describe('JobEventLineReader', () => {
  it('joins lines split across reads, skips garbage and reads a last line without its newline', () => {
    const events: NewJobEvent[] = [];
    const reader = new JobEventLineReader((event) => void events.push(event));
    const first = line({ type: 'task_start', host: null, task: 'one', data: { action: 'ping' } });
    reader.write(first.slice(0, 10));
    reader.write(first.slice(10) + 'garbage\n\n{"type": "host_ok", "ho');
    reader.write('st": "h", "task": "one", "data": {}}\n');
    reader.write(line({ type: 'stats', host: null, task: null, data: { hosts: {} } }).trimEnd());
    expect(events.map((e) => e.type)).toEqual(['task_start', 'host_ok']);
    reader.end();
    expect(events.map((e) => e.type)).toEqual(['task_start', 'host_ok', 'stats']);
  });

  it('passes the consumer’s backpressure on to the pipe', async () => {
    let release!: () => void;
    const reader = new JobEventLineReader(() => new Promise<void>((resolve) => (release = resolve)));
    const wait = reader.write(line({ type: 'host_ok', host: 'h', task: 't', data: {} }));
    expect(wait).toBeInstanceOf(Promise);
    release();
    await wait;
  });
});

describe('EventBatcher', () => {
  const event = (n: number): NewJobEvent => ({ type: JobEventType.HostOk, host: `h${n}`, task: null, data: {}, createdAt: new Date() });

  it('appends in order, one batch at a time, and everything by the time flush resolves', async () => {
    const batches: NewJobEvent[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const batcher = new EventBatcher(
      async (events) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        batches.push(events);
        inFlight--;
      },
      { flushIntervalMs: 10, maxBatchEvents: 7 },
    );
    for (let i = 0; i < 50; i++) {
      await batcher.add(event(i));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await batcher.flush();
    expect(batches.flat().map((e) => e.host)).toEqual(Array.from({ length: 50 }, (_, i) => `h${i}`));
    expect(batches.every((b) => b.length <= 7)).toBe(true);
    expect(maxInFlight).toBe(1);
  });

  it('loses only the batch the store refuses', async () => {
    const stored: NewJobEvent[] = [];
    let fail = true;
    const batcher = new EventBatcher(async (events) => {
      if (fail) {
        fail = false;
        throw new Error('database unavailable');
      }
      stored.push(...events);
    });
    batcher.add(event(1));
    await batcher.flush();
    batcher.add(event(2));
    await batcher.flush();
    expect(stored.map((e) => e.host)).toEqual(['h2']);
  });
});
