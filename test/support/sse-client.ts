import { createParser, EventSourceMessage } from 'eventsource-parser';
import { Credentials } from './api-client';

export interface StreamMessage {
  id: string | undefined;
  event: string | undefined;
  data: unknown;
}

export interface ReadStreamOptions {
  lastEventId?: string;
  /** Stop (drop the connection) after this many messages. */
  stopAfter?: number;
  timeoutMs?: number;
  /** Called as each message arrives (for latency measurements). */
  onMessage?: (message: StreamMessage) => void;
}

/** Reads a job's Server-Sent Events stream as any HTTP client would, until it ends or `stopAfter`. */
export async function readJobStream(
  baseUrl: string,
  jobId: string,
  credentials: Credentials,
  options: ReadStreamOptions = {},
): Promise<{ status: number; messages: StreamMessage[]; contentType: string | null; retries: number[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 60_000);
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`,
    accept: 'text/event-stream',
  };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const messages: StreamMessage[] = [];
  /** Every `retry:` field the server sent (the reconnect delay it asks for), in order. */
  const retries: number[] = [];
  try {
    const response = await fetch(`${baseUrl}/api/v1/jobs/${jobId}/stream`, { headers, signal: controller.signal });
    const contentType = response.headers.get('content-type');
    if (response.status !== 200 || !response.body) return { status: response.status, messages, contentType, retries };
    let done = false;
    const parser = createParser({
      onEvent(message: EventSourceMessage) {
        if (done) return;
        const parsed = { id: message.id, event: message.event, data: JSON.parse(message.data) as unknown };
        messages.push(parsed);
        options.onMessage?.(parsed);
        if (message.event === 'end' || messages.length === options.stopAfter) done = true;
      },
      onRetry(ms: number) {
        retries.push(ms);
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (done) break;
    }
    controller.abort();
    return { status: response.status, messages, contentType, retries };
  } finally {
    clearTimeout(timer);
  }
}

/** A stream held open by a test: what it has received so far, until it ends or is closed. */
export interface HeldStream {
  status: number;
  headers: Headers;
  /** A refused stream's JSON error body (undefined for a 200). */
  body: unknown;
  readonly messages: StreamMessage[];
  /** Whether the server has ended the stream. */
  readonly done: boolean;
  /** Resolves once the server has ended the stream (or close() was called). */
  ended: Promise<void>;
  close(): void;
}

/**
 * Opens a job's stream and keeps it open, resolving once its first message has arrived (the
 * server then counts it and sends it everything new), or at once with a refusal's status and body.
 */
export async function holdJobStream(baseUrl: string, jobId: string, credentials: Credentials, timeoutMs = 30_000): Promise<HeldStream> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/v1/jobs/${jobId}/stream`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`,
      accept: 'text/event-stream',
    },
    signal: controller.signal,
  });
  const messages: StreamMessage[] = [];
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    const body = response.headers.get('content-type')?.includes('application/json') ? (JSON.parse(text) as unknown) : text;
    return { status: response.status, headers: response.headers, body, messages, done: true, ended: Promise.resolve(), close: () => undefined };
  }
  let first!: () => void;
  const firstMessage = new Promise<void>((resolve) => (first = resolve));
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      messages.push({ id: message.id, event: message.event, data: JSON.parse(message.data) as unknown });
      first();
    },
  });
  const held = {
    status: response.status,
    headers: response.headers,
    body: undefined,
    messages,
    done: false,
    ended: Promise.resolve(),
    close: () => controller.abort(),
  };
  held.ended = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      held.done = true;
    } catch {
      // closed by the test
    }
    first(); // a stream that ended without a message
  })();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  await firstMessage;
  clearTimeout(timer);
  return held;
}
