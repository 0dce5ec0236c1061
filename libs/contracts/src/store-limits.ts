/**
 * The ranges a number from a request must stay in before it may reach the store. PostgreSQL
 * refuses a value its column cannot hold (a 500) where SQLite takes it in silence (a 200), so
 * every numeric input is checked against these at the edge and refused with a 400 on both.
 */

/** The largest `integer`: 32-bit signed in PostgreSQL. */
export const MAX_INT32 = 2_147_483_647;

/**
 * The latest instant a JavaScript Date holds (8.64e15 ms, year 275760): a `bigint` column holds it
 * (up to 2^63-1) and a JS number counts it exactly (up to 2^53-1), so no timestamp in range is rounded.
 */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/** Inclusive bounds of an integer input. */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

/** Each numeric input by the store column it meets. */
export const StoreRange = {
  /** An output line number (`job_output.start_line` / `end_line`, `integer`). */
  lineNumber: { min: 1, max: MAX_INT32 },
  /** A count of output lines or an event counter, 0 meaning none yet (`jobs.output_lines`, `job_events.counter`, `integer`). */
  counter: { min: 0, max: MAX_INT32 },
  /** A creation time in ms since the epoch (`jobs.created_at`, `bigint`). */
  timestampMs: { min: 0, max: MAX_TIMESTAMP_MS },
} as const satisfies Record<string, IntegerRange>;

/**
 * The one spelling of a number in a query string, header or cursor: ASCII decimal digits only.
 * No sign, blank, fraction, exponent (`1e3`), hex (`0x10`), `Infinity` or `NaN`, all of which
 * `Number()` would accept. Every numeric input is non-negative, so no sign is needed.
 */
const DECIMAL_DIGITS = /^[0-9]+$/;

/** The number `text` spells in decimal digits (possibly beyond any range), or undefined for any other spelling. */
export function parseDecimal(text: string): number | undefined {
  return DECIMAL_DIGITS.test(text) ? Number(text) : undefined;
}

export function isInRange(value: number, range: IntegerRange): boolean {
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max;
}

/** The integer `text` spells in decimal digits when it lies in `range`, else undefined. */
export function parseInRange(text: string, range: IntegerRange): number | undefined {
  const value = parseDecimal(text);
  return value !== undefined && isInRange(value, range) ? value : undefined;
}
