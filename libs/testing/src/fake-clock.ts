import { Clock } from '@flansible/config';

/** A clock that moves only when told to: `advance(ms)`. */
export class FakeClock extends Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {
    super();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
