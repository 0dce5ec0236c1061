import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** What every part of `npm run bench` measures with. */
export const run = promisify(execFile);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const ms = (n: number) => `${n.toFixed(0)} ms`;
