import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { delay } from './delay';
import { FlansibleApiError, FlansibleStreamError } from './errors';
import type { FollowJobOptions, JobStreamMessage } from './types';

/** Opens the stream from `lastEventId`; throws FlansibleApiError when the server refuses. */
export type OpenJobStream = (lastEventId: string | undefined, signal: AbortSignal) => Promise<ReadableStream<Uint8Array>>;

const MESSAGE_TYPES: ReadonlySet<string> = new Set(['output', 'event', 'status', 'end']);
/** Answers worth another try: the server or a proxy in front of it is briefly unavailable. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);
const DEFAULT_RECONNECT_DELAY_MS = 1_000;
const DEFAULT_STALL_TIMEOUT_MS = 45_000;
const DEFAULT_MAX_RECONNECTS = 10;

/**
 * Follows a job's Server-Sent Events until its `end` message. When the connection drops (or
 * stalls), reconnects with Last-Event-ID set to the last message received, so the server resumes
 * exactly there: no line or event is lost or repeated. A partly received message is discarded and
 * comes again in full. Only fetch, ReadableStream and TextDecoder are used, so it runs in
 * browsers as well as in Node.
 */
export async function* followJobStream(open: OpenJobStream, options: FollowJobOptions = {}): AsyncGenerator<JobStreamMessage, void, undefined> {
  const { signal } = options;
  const maxReconnects = options.maxReconnects ?? DEFAULT_MAX_RECONNECTS;
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  let lastEventId = options.lastEventId;
  let reconnectDelayMs = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
  let failures = 0;
  let lastFailure: unknown = undefined;

  for (;;) {
    signal?.throwIfAborted();
    const connection = new AbortController();
    const stopWithCaller = () => connection.abort(signal?.reason);
    signal?.addEventListener('abort', stopWithCaller);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const watchForStall = () => {
      if (stallTimeoutMs <= 0) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => connection.abort(new Error(`no data for ${stallTimeoutMs} ms`)), stallTimeoutMs);
    };
    try {
      watchForStall();
      const body = await open(lastEventId, connection.signal);
      reader = body.getReader();
      // A fresh parser per connection: a message cut off by the drop is dropped with it.
      const received: JobStreamMessage[] = [];
      const parser = createParser({
        onEvent: (message) => {
          const parsed = toStreamMessage(message);
          if (parsed) received.push(parsed);
          else if (message.id !== undefined) lastEventId = message.id;
        },
        onRetry: (ms) => {
          if (options.reconnectDelayMs === undefined) reconnectDelayMs = ms;
        },
      });
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(stallTimer); // the caller may take its time with each message
        parser.feed(decoder.decode(value, { stream: true }));
        for (let message = received.shift(); message; message = received.shift()) {
          lastEventId = message.id;
          failures = 0;
          yield message;
          if (message.type === 'end') return;
        }
        watchForStall();
      }
      lastFailure = new Error('the stream closed before the job ended');
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof FlansibleApiError && !RETRYABLE_STATUSES.has(err.status)) throw err;
      lastFailure = err;
    } finally {
      clearTimeout(stallTimer);
      signal?.removeEventListener('abort', stopWithCaller);
      connection.abort(); // releases the connection, also when the caller stops iterating early
      reader?.cancel().catch(() => undefined);
    }

    failures++;
    if (failures > maxReconnects) {
      throw new FlansibleStreamError(
        `gave up following the job after ${maxReconnects} reconnections without a message: ${describe(lastFailure)}`,
        lastEventId,
        { cause: lastFailure },
      );
    }
    await delay(reconnectDelayMs, signal);
  }
}

function toStreamMessage(message: EventSourceMessage): JobStreamMessage | null {
  // Unknown message types (from a newer server) are skipped; their id still moves the cursor.
  if (!message.event || !MESSAGE_TYPES.has(message.event) || message.id === undefined) return null;
  return { id: message.id, type: message.event, data: JSON.parse(message.data) } as JobStreamMessage;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
