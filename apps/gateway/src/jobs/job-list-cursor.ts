import { BadRequestException } from '@nestjs/common';
import { StoreRange, parseInRange } from '@flansible/contracts';
import { JobListCursor, JobRecord } from '@flansible/store';

/** Job ids as the gateway makes them (UUIDs), and nothing PostgreSQL's text would refuse (NUL, bad UTF-8). */
const CURSOR_JOB_ID = /^[A-Za-z0-9-]{1,64}$/;

const INVALID = 'cursor must be a next_cursor value from a previous page';

/** Keyset cursors are opaque to clients: base64url of the last job's creation time (ms) and id. */
export function encodeJobListCursor(job: Pick<JobRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(`${job.createdAt.getTime()}.${job.id}`).toString('base64url');
}

/**
 * A cursor this gateway could have written, or a 400: the time must fit `jobs.created_at` (and a
 * Date), the id a job id, and it must be the one spelling encodeJobListCursor gives them.
 */
export function decodeJobListCursor(cursor: string): JobListCursor {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const ms = dot < 0 ? undefined : parseInRange(text.slice(0, dot), StoreRange.timestampMs);
  const id = text.slice(dot + 1);
  if (ms === undefined || !CURSOR_JOB_ID.test(id)) throw new BadRequestException(INVALID);
  const decoded = { createdAt: new Date(ms), id };
  if (encodeJobListCursor(decoded) !== cursor) throw new BadRequestException(INVALID);
  return decoded;
}
