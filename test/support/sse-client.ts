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
