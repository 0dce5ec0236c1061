import { Logger } from '@nestjs/common';
import { JobEventType, NewJobEvent } from '@flansible/contracts';

const EVENT_TYPES = new Set<string>(Object.values(JobEventType));

/** A line longer than this is no event of ours (the plugin keeps its events to a few KiB). */
export const MAX_EVENT_LINE_CHARS = 1024 * 1024;

/** How many unreadable lines of one run are logged one by one; the rest are only counted. */
const LOGGED_BAD_LINES = 5;

const isStringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/**
 * One event from one line of the callback plugin, or null when the line is not one: the plugin
 * writes `{"type", "host", "task", "at" (seconds since the epoch), "data"}`.
 */
export function parseJobEventLine(line: string, now: () => Date = () => new Date()): NewJobEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { type, host, task, at, data } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return null;
  if (!isStringOrNull(host ?? null) || !isStringOrNull(task ?? null)) return null;
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data))) return null;
  const createdAt = typeof at === 'number' && Number.isFinite(at) ? new Date(Math.round(at * 1000)) : now();
  return {
    type: type as JobEventType,
    host: (host as string | null) ?? null,
    task: (task as string | null) ?? null,
    data: (data as Record<string, unknown>) ?? {},
    createdAt: Number.isNaN(createdAt.getTime()) ? now() : createdAt,
  };
}

/**
 * Splits what arrives on the events pipe into lines and each line into an event. A line that is
 * not an event (garbage, a truncated write) is logged and skipped: events are a view of the run,
 * never a reason to fail it.
 */
export class JobEventLineReader {
  private readonly logger = new Logger(JobEventLineReader.name);
  private partial = '';
  private badLines = 0;

  constructor(private readonly onEvent: (event: NewJobEvent) => Promise<void> | void) {}

  /** Takes a piece of the pipe's text; returns a promise when onEvent asks the reader to wait. */
  write(text: string): Promise<void> | undefined {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_EVENT_LINE_CHARS) {
      this.skip(`a line longer than ${MAX_EVENT_LINE_CHARS} characters`);
      this.partial = '';
    }
    let wait: Promise<void> | undefined;
    for (const line of lines) wait = this.take(line) ?? wait;
    return wait;
  }

  /** The pipe has closed: a last line without its newline still counts. */
  end(): Promise<void> | undefined {
    const rest = this.partial;
    this.partial = '';
    const wait = rest.trim() ? this.take(rest) : undefined;
    if (this.badLines > LOGGED_BAD_LINES) {
      this.logger.warn(`${this.badLines - LOGGED_BAD_LINES} more unreadable event line(s) skipped`);
    }
    return wait;
  }

  private take(line: string): Promise<void> | undefined {
    if (!line.trim()) return undefined;
    const event = parseJobEventLine(line);
    if (!event) {
      this.skip(JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line));
      return undefined;
    }
    return this.onEvent(event) ?? undefined;
  }

  private skip(what: string): void {
    if (++this.badLines <= LOGGED_BAD_LINES) this.logger.warn(`Skipped an unreadable event line: ${what}`);
  }
}
