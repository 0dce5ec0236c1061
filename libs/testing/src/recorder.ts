/** A callback that remembers what it was called with, for listeners and handlers under test. */
export function recorder<T>(): { seen: T[]; record: (value: T) => void } {
  const seen: T[] = [];
  return { seen, record: (value) => seen.push(value) };
}
