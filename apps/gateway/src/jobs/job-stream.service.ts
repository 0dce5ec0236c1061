import { BadRequestException, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthenticatedUser } from '@flansible/auth';
import { StoreRange, isTerminalStatus, parseInRange } from '@flansible/contracts';
import { JobNoticeBus } from '@flansible/queue';
import { JobStore } from '@flansible/store';
import { JobQueryService } from './job-query.service';
import { toJobEvent } from './job-resource';
import { LiveStreams } from './live-streams';

/** Where a client is in a job's stream: lines and events it has received. Sent as each message's id. */
interface StreamCursor {
  lines: number;
  events: number;
}

const OUTPUT_PAGE = 1_000;
const EVENT_PAGE = 500;
/** Re-read the store this often even without a notice: notices are hints and may be lost. */
const SAFETY_POLL_MS = 1_000;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The cursor a Last-Event-ID names, or a 400. Both parts meet `integer` columns (line numbers,
 * event counters), so they are range-checked here, before the stream's headers are written:
 * after those, an error could only cut the stream off.
 */
export function parseLastEventId(value: string | undefined): StreamCursor {
  if (value === undefined || value === '') return { lines: 0, events: 0 };
  const parts = value.split(':');
  const [lines, events] = parts.map((part) => parseInRange(part, StoreRange.counter));
  if (parts.length !== 2 || lines === undefined || events === undefined) {
    throw new BadRequestException(`Last-Event-ID must be an id this stream sent (lines:events, each from 0 to ${StoreRange.counter.max})`);
  }
  return { lines, events };
}

/**
 * Server-Sent Events for one job: output lines, structured events and status changes as they
 * happen, then `end`. Everything is read from the store from the client's cursor, and the notice
 * bus only says when to look, so a resumed stream (Last-Event-ID) loses and repeats nothing,
 * whichever gateway serves it and wherever the job runs.
 */
@Injectable()
export class JobStreamService {
  constructor(
    private readonly store: JobStore,
    private readonly bus: JobNoticeBus,
    private readonly query: JobQueryService,
    private readonly liveStreams: LiveStreams,
  ) {}

  async stream(user: AuthenticatedUser, id: string, lastEventId: string | undefined, req: Request, res: Response): Promise<void> {
    const cursor = parseLastEventId(lastEventId);
    await this.query.getJob(user, id); // 404 before any header is sent

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    let lastWrite = Date.now();
    const send = (event: string, data: unknown) => {
      res.write(`id: ${cursor.lines}:${cursor.events}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };

    let closed = false;
    let wake: (() => void) | null = null;
    let noticed = false;
    const onNotice = () => {
      noticed = true;
      wake?.();
    };
    req.on('close', () => {
      closed = true;
      wake?.();
    });
    // The gateway's shutdown ends the stream as a client leaving does, after a reconnect hint.
    this.liveStreams.track(res, () => {
      closed = true;
      wake?.();
    });
    const stopListening = this.bus.listen(id, onNotice);
    let lastStatus: string | null = null;
    try {
      while (!closed) {
        noticed = false;
        const job = await this.store.findJob(id);
        if (!job) break; // purged meanwhile
        // The runner stores all output and events before the terminal status, so once the job
        // reads as terminal here, what follows is all there is.
        const terminal = isTerminalStatus(job.status);
        await this.sendOutput(id, job.outputLines, terminal, cursor, send);
        await this.sendEvents(id, cursor, send);
        if (job.status !== lastStatus) {
          lastStatus = job.status;
          send('status', { status: job.status, reason: job.reason, return_code: job.returnCode });
        }
        if (terminal) {
          send('end', { status: job.status });
          break;
        }
        if (!noticed && !closed) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, SAFETY_POLL_MS);
          });
          wake = null;
        }
        if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      }
    } finally {
      stopListening();
      res.end();
    }
  }

  private async sendOutput(
    id: string,
    storedLines: number,
    terminal: boolean,
    cursor: StreamCursor,
    send: (event: string, data: unknown) => void,
  ): Promise<void> {
    while (cursor.lines < storedLines) {
      const page = await this.store.readOutputLines(id, cursor.lines + 1, Math.min(storedLines, cursor.lines + OUTPUT_PAGE));
      let lines = page.lines;
      // A last line still without its newline may grow: hold it back until it is complete.
      const reachesEnd = page.from + lines.length - 1 >= page.totalLines;
      if (reachesEnd && !page.endsWithNewline && !terminal) lines = lines.slice(0, -1);
      if (lines.length === 0) return;
      cursor.lines += lines.length;
      send('output', { start_line: page.from, lines });
    }
  }

  private async sendEvents(id: string, cursor: StreamCursor, send: (event: string, data: unknown) => void): Promise<void> {
    for (;;) {
      const events = await this.store.readEvents(id, { after: cursor.events, limit: EVENT_PAGE });
      for (const event of events) {
        cursor.events = event.counter;
        send('event', toJobEvent(event));
      }
      if (events.length < EVENT_PAGE) return;
    }
  }
}
