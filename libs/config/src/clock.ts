/**
 * The time, as a dependency: code that measures time (throttles, caches) asks the clock, so a spec
 * can move time on with a FakeClock (@flansible/testing) instead of sleeping.
 */
export abstract class Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** What code built outside Nest (and Nest without a Clock provider) uses. */
export const SYSTEM_CLOCK: Clock = new SystemClock();
