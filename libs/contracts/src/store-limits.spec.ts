import { MAX_INT32, MAX_TIMESTAMP_MS, StoreRange, parseDecimal, parseInRange } from './store-limits';

describe('store limits', () => {
  it('names the PostgreSQL integer range and the latest time a Date holds', () => {
    expect(MAX_INT32).toBe(2 ** 31 - 1);
    expect(new Date(MAX_TIMESTAMP_MS).getTime()).toBe(MAX_TIMESTAMP_MS);
    expect(new Date(MAX_TIMESTAMP_MS + 1).getTime()).toBeNaN();
    // Within a JS safe integer, so within a PostgreSQL bigint too.
    expect(Number.isSafeInteger(MAX_TIMESTAMP_MS)).toBe(true);
  });

  // Number() takes most of these; the request surfaces are tested with more in the gateway.
  it.each(['', '-1', '+1', ' 1', '1.5', '1e3', '0x10', 'NaN', 'Infinity', '１'])('parseDecimal refuses %j', (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });

  it('parseDecimal reads plain digits, however large', () => {
    expect(parseDecimal('0')).toBe(0);
    expect(parseDecimal('007')).toBe(7);
    expect(parseDecimal('2147483648')).toBe(2147483648);
    expect(parseDecimal('9'.repeat(400))).toBe(Infinity);
  });

  it.each([
    ['0', StoreRange.counter, 0],
    ['2147483647', StoreRange.counter, MAX_INT32],
    ['2147483648', StoreRange.counter, undefined],
    ['99999999999999999999', StoreRange.counter, undefined],
    ['9'.repeat(400), StoreRange.counter, undefined],
    ['0', StoreRange.lineNumber, undefined],
    ['1', StoreRange.lineNumber, 1],
    ['2147483647', StoreRange.lineNumber, MAX_INT32],
    ['2147483648', StoreRange.lineNumber, undefined],
    ['8640000000000000', StoreRange.timestampMs, MAX_TIMESTAMP_MS],
    ['8640000000000001', StoreRange.timestampMs, undefined],
    ['9223372036854775807', StoreRange.timestampMs, undefined],
    ['9223372036854775808', StoreRange.timestampMs, undefined],
    ['-1', StoreRange.timestampMs, undefined],
  ])('parseInRange(%j, %j) is %j', (text, range, expected) => {
    expect(parseInRange(text, range)).toBe(expected);
  });
});
