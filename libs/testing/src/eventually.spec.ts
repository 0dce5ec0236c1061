import { eventually } from './eventually';

describe('eventually', () => {
  it('resolves with the first truthy answer of the probe', async () => {
    let calls = 0;
    await expect(eventually(() => (++calls >= 3 ? `call ${calls}` : null), 'the third call', { intervalMs: 1 })).resolves.toBe('call 3');
    expect(calls).toBe(3);
  });

  it('treats a throwing probe as not yet', async () => {
    let calls = 0;
    const answer = await eventually(
      async () => {
        if (++calls < 2) throw new Error('still starting');
        return calls;
      },
      'a probe that stops throwing',
      { intervalMs: 1 },
    );
    expect(answer).toBe(2);
  });

  it('rejects after the timeout, naming what it waited for and the last error', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('connection refused');
        },
        'the broker',
        { timeoutMs: 20, intervalMs: 5 },
      ),
    ).rejects.toThrow(/timed out after 20 ms waiting for the broker: connection refused/);
    await expect(eventually(() => false, 'never', 10)).rejects.toThrow(/waiting for never$/);
  });
});
