import { nextAfterAttempt } from './webhook-retry-schedule';

describe('nextAfterAttempt', () => {
  const now = new Date(Date.UTC(2034, 0, 1));
  const config = { webhookMaxAttempts: 5, webhookRetryDelaysMs: [1000, 4000, 16000] };
  const waitAfter = (attempts: number) => {
    const next = nextAfterAttempt(config, attempts, false, now);
    return 'retryAt' in next ? next.retryAt.getTime() - now.getTime() : next.settled;
  };

  it('settles a 2xx as delivered, whichever attempt it was', () => {
    expect(nextAfterAttempt(config, 1, true, now)).toEqual({ settled: 'delivered' });
    expect(nextAfterAttempt(config, 5, true, now)).toEqual({ settled: 'delivered' });
  });

  it('waits the next delay after each failure, repeats the last, and gives up after the last attempt', () => {
    expect([1, 2, 3, 4, 5].map(waitAfter)).toEqual([1000, 4000, 16000, 16000, 'failed']);
    expect(nextAfterAttempt({ webhookMaxAttempts: 1, webhookRetryDelaysMs: [1000] }, 1, false, now)).toEqual({ settled: 'failed' });
  });
});
