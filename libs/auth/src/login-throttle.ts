import { HttpException, HttpStatus, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Request } from 'express';
import { Clock, SYSTEM_CLOCK } from '@flansible/config';

export interface LoginThrottleOptions {
  /** Failed logins for one user from one address, within the window, before a block. */
  perUserAndAddress: number;
  /** Failed logins from one address (any users) within the window before a block. */
  perAddress: number;
  windowMs: number;
  /** The first block; each further block while the counter is still warm doubles it... */
  firstBlockMs: number;
  /** ...up to this. Short enough that the real user is never locked out for long. */
  maxBlockMs: number;
  /** Counters kept at once; the least recently active are dropped first. */
  maxEntries: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  perUserAndAddress: 10,
  perAddress: 50,
  windowMs: 5 * 60_000,
  firstBlockMs: 10_000,
  maxBlockMs: 120_000,
  maxEntries: 10_000,
};

/** Optional provider to tune the throttle (tests use short blocks). */
export const LOGIN_THROTTLE_OPTIONS = Symbol('LOGIN_THROTTLE_OPTIONS');

interface Counter {
  /** Times of failed (or not yet settled) attempts inside the window. */
  failures: number[];
  blockedUntil: number;
  /** Blocks so far: after the first, one more failure is enough for the next, longer one. */
  blocks: number;
  lastActivity: number;
}

/**
 * Slows password guessing: too many failed logins for one user from one address, or from one
 * address overall, answer 429 for a short, growing period (10 s, 20 s, 40 s ... capped at 2 min).
 * A successful login clears its user+address counter. Attempts count when they start, so a burst
 * of parallel guesses cannot all slip through while the slow hash check is running.
 *
 * Counters live in this process's memory: with several gateways each keeps its own, and a
 * restart forgets them. Per user+address rather than per user, so an attacker elsewhere cannot
 * lock the real user out.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);
  private readonly options: LoginThrottleOptions;
  /** Map order is least recently active first. */
  private readonly counters = new Map<string, Counter>();
  private lastSweep = 0;

  constructor(
    @Optional() @Inject(LOGIN_THROTTLE_OPTIONS) options?: Partial<LoginThrottleOptions>,
    @Optional() private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.options = { ...DEFAULT_LOGIN_THROTTLE, ...options };
  }

  /**
   * Call before checking a password. Returns 0 and counts the attempt as a failure until
   * `succeeded` says otherwise, or the milliseconds the client must wait.
   */
  attempt(user: string, address: string, now = this.clock.now()): number {
    const waitMs = this.blockedFor(user, address, now);
    if (waitMs === 0) this.failed(user, address, now);
    return waitMs;
  }

  /**
   * The milliseconds this user+address (or address) must still wait, 0 when none; counts nothing.
   * For credentials checked so quickly that counting only their failures (`failed`) is enough: API
   * tokens, where a burst of good requests must not count as attempts until each has been checked.
   */
  blockedFor(user: string, address: string, now = this.clock.now()): number {
    this.sweep(now);
    let waitMs = 0;
    for (const { key, limit, who } of this.checks(user, address)) {
      const counter = this.counter(key, now);
      if (counter.blockedUntil > now) {
        waitMs = Math.max(waitMs, counter.blockedUntil - now);
      } else if (counter.failures.length >= (counter.blocks > 0 ? 1 : limit)) {
        waitMs = Math.max(waitMs, this.block(counter, now, who));
      }
    }
    return waitMs;
  }

  /** Counts a failed login for this user+address and this address. */
  failed(user: string, address: string, now = this.clock.now()): void {
    for (const { key } of this.checks(user, address)) {
      const counter = this.counter(key, now);
      counter.failures.push(now);
      counter.lastActivity = now;
    }
  }

  /** The attempt's password was right: forget this user+address's failures, and refund the address. */
  succeeded(user: string, address: string): void {
    const [byAddress, byUser] = this.checks(user, address);
    this.counters.delete(byUser.key);
    this.counters.get(byAddress.key)?.failures.pop();
  }

  private checks(user: string, address: string) {
    const { perAddress, perUserAndAddress } = this.options;
    const name = user.slice(0, 256); // the name is the client's choice: bound what we keep
    return [
      { key: `a\0${address}`, limit: perAddress, who: `address ${JSON.stringify(address)}` },
      { key: `u\0${address}\0${name}`, limit: perUserAndAddress, who: `user ${JSON.stringify(name)} from ${JSON.stringify(address)}` },
    ];
  }

  private block(counter: Counter, now: number, who: string): number {
    const { firstBlockMs, maxBlockMs } = this.options;
    const failures = counter.failures.length;
    counter.blocks += 1;
    const durationMs = Math.min(firstBlockMs * 2 ** (counter.blocks - 1), maxBlockMs);
    counter.blockedUntil = now + durationMs;
    counter.failures = [];
    counter.lastActivity = now;
    this.logger.warn(`Too many failed logins (${failures}) for ${who}: blocked for ${Math.ceil(durationMs / 1000)} s`);
    return durationMs;
  }

  /** The counter for a key, with failures outside the window dropped, marked most recently used. */
  private counter(key: string, now: number): Counter {
    let counter = this.counters.get(key);
    if (counter && this.isStale(counter, now)) counter = undefined;
    counter ??= { failures: [], blockedUntil: 0, blocks: 0, lastActivity: now };
    const windowStart = now - this.options.windowMs;
    while (counter.failures.length && counter.failures[0] <= windowStart) counter.failures.shift();
    this.counters.delete(key);
    this.counters.set(key, counter);
    while (this.counters.size > this.options.maxEntries) this.counters.delete(this.counters.keys().next().value as string);
    return counter;
  }

  /** Quiet for a whole window and not blocked: nothing left worth remembering. */
  private isStale(counter: Counter, now: number): boolean {
    return counter.blockedUntil <= now && counter.lastActivity + this.options.windowMs <= now;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.options.windowMs / 5) return;
    this.lastSweep = now;
    for (const [key, counter] of this.counters) if (this.isStale(counter, now)) this.counters.delete(key);
  }
}

/** Where a login comes from, as the throttle counts it (req.ip follows Express's "trust proxy" setting). */
export function loginAddress(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}

/** The 429 answer to a login while the throttle blocks it, with Retry-After. */
export function tooManyFailedLogins(request: Request, waitMs: number): HttpException {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  request.res?.setHeader('Retry-After', String(seconds));
  return new HttpException(`Too many failed logins; try again in ${seconds} s`, HttpStatus.TOO_MANY_REQUESTS);
}
