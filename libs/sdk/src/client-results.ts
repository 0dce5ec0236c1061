// How the client reads the generated client's answers: the body or a typed error, a text body,
// polling until done, and the query and header spellings the API takes.
import { FlansibleApiError, FlansibleTimeoutError } from './errors';
import { delay } from './delay';
import type { SubmitOptions, WaitOptions } from './types';

/** What an openapi-fetch call resolves with. */
export interface RawResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's body, or FlansibleApiError with the server's error body. */
export async function ok<T>(what: string, pending: Promise<RawResult<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw FlansibleApiError.fromResponse(response, error, what.split(' ')[0], response.url || what.slice(what.indexOf(' ') + 1));
  return data as T;
}

/** A text answer; an empty one is '' (openapi-fetch gives undefined for a zero Content-Length). */
export async function text(what: string, pending: Promise<RawResult<string>>): Promise<string> {
  return (await ok(what, pending)) ?? '';
}

export async function poll<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, options: WaitOptions): Promise<T> {
  const interval = options.intervalMs ?? 1_000;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() + interval > deadline) throw new FlansibleTimeoutError(`${what} has not ended after ${options.timeoutMs} ms`, value);
    await delay(interval, options.signal);
  }
}

export function idempotency(options: SubmitOptions): { 'Idempotency-Key'?: string } {
  return options.idempotencyKey === undefined ? {} : { 'Idempotency-Key': options.idempotencyKey };
}

export function commaSeparated(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

export function isoTime(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}
