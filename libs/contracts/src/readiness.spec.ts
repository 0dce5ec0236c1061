import { ReadinessProbe } from './readiness';

describe('ReadinessProbe', () => {
  it('is ok when every check is up, and names each part that is down: false, thrown or too slow', async () => {
    const up = new ReadinessProbe({ store: async () => undefined, queue: () => true });
    expect(await up.report()).toEqual({ status: 'ok', checks: { store: { status: 'up' }, queue: { status: 'up' } } });

    const hanging = new Promise(() => undefined);
    const slow = new ReadinessProbe({ store: () => hanging, queue: () => false }, 50);
    expect(await slow.report()).toEqual({ status: 'error', checks: { store: { status: 'down' }, queue: { status: 'down' } } });

    const failing = new ReadinessProbe({ store: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432')), queue: () => true });
    // The error text (a host, a port) stays out of the answer.
    expect(await failing.report()).toEqual({ status: 'error', checks: { store: { status: 'down' }, queue: { status: 'up' } } });
  });

  it('waits again for a check still running from an earlier probe instead of starting another', async () => {
    let started = 0;
    let answer!: () => void;
    const store = () => {
      started++;
      return new Promise<void>((resolve) => (answer = resolve));
    };
    const probe = new ReadinessProbe({ store, queue: () => true }, 20);
    expect((await probe.report()).checks.store).toEqual({ status: 'down' });
    expect((await probe.report()).checks.store).toEqual({ status: 'down' });
    expect(started).toBe(1);
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await probe.report()).checks.store).toEqual({ status: 'down' });
    expect(started).toBe(2);
  });

  it('answers draining while the process shuts down, whatever its parts say', async () => {
    const probe = new ReadinessProbe({ store: () => true, queue: () => true });
    expect(await probe.report(true)).toEqual({ status: 'draining', checks: { store: { status: 'up' }, queue: { status: 'up' } } });
  });
});
