import { ReadinessProbe } from './readiness';

const notReady = (message: string, details: string[]) => ({
  statusCode: 503,
  body: { statusCode: 503, error: 'Service Unavailable', message, details },
});

describe('ReadinessProbe', () => {
  it('answers 200 when every check is up, and 503 naming each part that is down: false, thrown or too slow', async () => {
    const up = new ReadinessProbe({ store: async () => undefined, queue: () => true });
    expect(await up.answer()).toEqual({ statusCode: 200, body: { status: 'ok', checks: { store: { status: 'up' }, queue: { status: 'up' } } } });

    const hanging = new Promise(() => undefined);
    const slow = new ReadinessProbe({ store: () => hanging, queue: () => false }, 50);
    expect(await slow.answer()).toEqual(notReady('Not ready: store and queue unavailable', ['store', 'queue']));

    const failing = new ReadinessProbe({ store: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432')), queue: () => true });
    // The error text (a host, a port) stays out of the answer.
    expect(await failing.answer()).toEqual(notReady('Not ready: store unavailable', ['store']));
  });

  it('waits again for a check still running from an earlier probe instead of starting another', async () => {
    let started = 0;
    let answer!: () => void;
    const store = () => {
      started++;
      return new Promise<void>((resolve) => (answer = resolve));
    };
    const probe = new ReadinessProbe({ store, queue: () => true }, 20);
    expect((await probe.answer()).statusCode).toBe(503);
    expect((await probe.answer()).statusCode).toBe(503);
    expect(started).toBe(1);
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    await probe.answer();
    expect(started).toBe(2);
  });

  it('answers 503 while the process shuts down, whatever its parts say', async () => {
    const probe = new ReadinessProbe({ store: () => true, queue: () => true });
    expect(await probe.answer(true)).toEqual(notReady('Not ready: shutting down', []));
  });
});
