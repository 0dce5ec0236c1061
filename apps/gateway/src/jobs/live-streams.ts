import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { randomInt } from 'node:crypto';

/** A stopping gateway asks its stream clients back after 1 to 3 s: spread, so they do not all come at once. */
const RECONNECT_AFTER_MIN_MS = 1_000;
const RECONNECT_SPREAD_MS = 2_000;

/**
 * The live streams (SSE) this gateway is serving, so that its shutdown can end them with a `retry`
 * hint: the client reconnects with its Last-Event-ID to whichever gateway is up, and loses nothing.
 */
@Injectable()
export class LiveStreams {
  private readonly open = new Map<Response, () => void>();
  private ending = false;

  /**
   * Registers a stream; `stop` ends its loop, which then ends the response. Forgotten once the
   * response closes. A stream that starts while the gateway is stopping ends at once.
   */
  track(res: Response, stop: () => void): void {
    if (this.ending) return this.end(res, stop);
    this.open.set(res, stop);
    res.once('close', () => this.open.delete(res));
  }

  /** Ends every stream with a reconnect hint, and every one that starts from now on; returns how many were open. */
  endAll(): number {
    this.ending = true;
    const count = this.open.size;
    for (const [res, stop] of this.open) this.end(res, stop);
    this.open.clear();
    return count;
  }

  private end(res: Response, stop: () => void): void {
    res.write(`retry: ${RECONNECT_AFTER_MIN_MS + randomInt(RECONNECT_SPREAD_MS)}\n\n`);
    stop();
  }
}
