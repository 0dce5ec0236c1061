import { Logger } from '@nestjs/common';
import { LoginThrottle, LoginThrottleOptions } from './login-throttle';
import { FakeClock } from '@flansible/testing';

const OPTIONS: LoginThrottleOptions = {
  perUserAndAddress: 3,
  perAddress: 5,
  windowMs: 60_000,
  firstBlockMs: 1_000,
  maxBlockMs: 4_000,
  maxEntries: 100,
};

/** `count` failed attempts at `now`; each must have been allowed. */
function fail(throttle: LoginThrottle, user: string, address: string, count: number, now: number): void {
  for (let i = 0; i < count; i++) expect(throttle.attempt(user, address, now)).toBe(0);
}

describe('LoginThrottle', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('blocks a user+address after the allowed failures, for the first block period', () => {
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    expect(throttle.attempt('alice', '10.0.0.1', 10)).toBe(1_000);
    // Attempts while blocked are refused without extending the block.
    expect(throttle.attempt('alice', '10.0.0.1', 510)).toBe(500);
    expect(throttle.attempt('alice', '10.0.0.1', 1_010)).toBe(0);
  });

  it('counts only failures when asked whether a login is blocked (blockedFor) and told of a failure (failed)', () => {
    const throttle = new LoginThrottle(OPTIONS);
    // Asking counts nothing: any number of good logins in a row.
    for (let i = 0; i < 10; i++) expect(throttle.blockedFor('bearer:abc', '10.0.0.1', 0)).toBe(0);
    for (let i = 0; i < 3; i++) throttle.failed('bearer:abc', '10.0.0.1', 0);
    expect(throttle.blockedFor('bearer:abc', '10.0.0.1', 10)).toBe(1_000);
    // The same counters as attempt(): the address has 3 of its 5, so two more attempts by anyone block it.
    fail(throttle, 'bob', '10.0.0.1', 2, 20);
    expect(throttle.attempt('carol', '10.0.0.1', 30)).toBe(1_000);
  });

  it('logs the block once, naming user and address', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    warn.mockClear();
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    throttle.attempt('alice', '10.0.0.1', 1);
    throttle.attempt('alice', '10.0.0.1', 2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe('Too many failed logins (3) for user "alice" from "10.0.0.1": blocked for 1 s');
  });

  it('after a block, blocks again at the next failure, each time longer, up to the cap', () => {
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    let now = 0;
    const blocks: number[] = [];
    for (let i = 0; i < 5; i++) {
      const wait = throttle.attempt('alice', '10.0.0.1', now);
      blocks.push(wait);
      now += wait;
      fail(throttle, 'alice', '10.0.0.1', 1, now);
    }
    expect(blocks).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it('does not block the same user from another address, nor another user from the same one', () => {
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    expect(throttle.attempt('alice', '10.0.0.1', 0)).toBeGreaterThan(0);
    expect(throttle.attempt('alice', '10.0.0.2', 0)).toBe(0);
    expect(throttle.attempt('bob', '10.0.0.1', 0)).toBe(0);
  });

  it('blocks an address that fails for many users', () => {
    const throttle = new LoginThrottle(OPTIONS);
    for (const user of ['a', 'b', 'c', 'd', 'e']) fail(throttle, user, '10.0.0.9', 1, 0);
    expect(throttle.attempt('f', '10.0.0.9', 0)).toBe(1_000);
    expect(throttle.attempt('f', '10.0.0.8', 0)).toBe(0);
  });

  it('forgets failures after a successful login', () => {
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    throttle.succeeded('alice', '10.0.0.1'); // the third attempt was the right password
    fail(throttle, 'alice', '10.0.0.1', 3, 0);
    expect(throttle.attempt('alice', '10.0.0.1', 0)).toBeGreaterThan(0);
  });

  it('refunds the address for successful logins', () => {
    const throttle = new LoginThrottle(OPTIONS);
    for (let i = 0; i < 20; i++) {
      expect(throttle.attempt(`user${i}`, '10.0.0.1', 0)).toBe(0);
      throttle.succeeded(`user${i}`, '10.0.0.1');
    }
  });

  it('forgets failures older than the window', () => {
    const throttle = new LoginThrottle(OPTIONS);
    fail(throttle, 'alice', '10.0.0.1', 2, 0);
    fail(throttle, 'alice', '10.0.0.1', 3, 60_001); // the first two no longer count
    expect(throttle.attempt('alice', '10.0.0.1', 60_001)).toBe(1_000);
    // A quiet window after the block: back to the full allowance.
    fail(throttle, 'alice', '10.0.0.1', 3, 200_000);
  });

  it('counts attempts when they start, so parallel guesses cannot all slip through', () => {
    const throttle = new LoginThrottle(OPTIONS);
    const started = Array.from({ length: 10 }, () => throttle.attempt('alice', '10.0.0.1', 0));
    expect(started.filter((wait) => wait === 0)).toHaveLength(3);
  });

  it('keeps a bounded number of counters', () => {
    const throttle = new LoginThrottle({ ...OPTIONS, maxEntries: 10 });
    for (let i = 0; i < 1_000; i++) throttle.attempt(`user${i}`, `10.0.${i >> 8}.${i & 255}`, 0);
    expect((throttle as unknown as { counters: Map<string, unknown> }).counters.size).toBeLessThanOrEqual(10);
  });

  it('lets the user in again once the block is over (on its injected clock)', () => {
    const clock = new FakeClock();
    const throttle = new LoginThrottle({ ...OPTIONS, firstBlockMs: 300 }, clock);
    fail(throttle, 'alice', '10.0.0.1', 3, clock.now());
    const wait = throttle.attempt('alice', '10.0.0.1');
    expect(wait).toBeGreaterThan(0);
    clock.advance(wait - 1);
    expect(throttle.attempt('alice', '10.0.0.1')).toBe(1);
    clock.advance(1);
    expect(throttle.attempt('alice', '10.0.0.1')).toBe(0);
  });
});
