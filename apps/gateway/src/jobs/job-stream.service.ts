import { BadRequestException, HttpStatus, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Response } from 'express';
import { AuthenticatedUser, JobPolicyService, RbacService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { StoreRange, parseInRange } from '@flansible/contracts';
import { FlansibleMetrics } from '@flansible/metrics';
import { JobNoticeBus } from '@flansible/queue';
import { GatewayJobStore } from '@flansible/store';
import { RetryLaterError } from '../common/retry-later.error';
import { FeedSubscriber, JobFeed, StreamCursor } from './job-feed';
import { JobQueryService } from './job-query.service';
import { LiveStreams } from './live-streams';

const SHUTDOWN_CLOSE_REASON = 'the gateway is shutting down; reconnect with Last-Event-ID';

/** Seconds a refused stream is asked to wait: streams last as long as their jobs. */
export const STREAM_LIMIT_RETRY_AFTER_SECONDS = 5;

/** max_streams_per_user or max_streams reached on this gateway: answered 429 with Retry-After. */
export class StreamLimitReachedError extends RetryLaterError {
  readonly status = HttpStatus.TOO_MANY_REQUESTS;
  readonly retryAfterSeconds = STREAM_LIMIT_RETRY_AFTER_SECONDS;
}

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
 * whichever gateway serves it and wherever the job runs. All streams of a job on this gateway
 * share one reader (JobFeed). Open streams are capped per user and in all (max_streams_per_user,
 * max_streams), and each is ended when rbac.json no longer lets its user read the job.
 */
@Injectable()
export class JobStreamService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobStreamService.name);
  private readonly feeds = new Map<string, JobFeed>();
  /** Open (or opening) streams per user, and in all. */
  private readonly openByUser = new Map<string, number>();
  private open = 0;
  private stopWatchingRights: (() => void) | null = null;

  constructor(
    private readonly config: FlansibleConfig,
    private readonly store: GatewayJobStore,
    private readonly bus: JobNoticeBus,
    private readonly query: JobQueryService,
    private readonly rbac: RbacService,
    private readonly policy: JobPolicyService,
    private readonly metrics: FlansibleMetrics,
    private readonly liveStreams: LiveStreams,
  ) {}

  onModuleInit(): void {
    this.stopWatchingRights = this.rbac.onReload(() => this.recheckRights());
  }

  /** The streams themselves are ended at shutdown by GatewayDrainService (LiveStreams), with a reconnect hint. */
  onModuleDestroy(): void {
    this.stopWatchingRights?.();
  }

  /** Resolves once the stream has ended. Every refusal (400, 429, 404) comes before any SSE header. */
  async stream(user: AuthenticatedUser, id: string, lastEventId: string | undefined, res: Response): Promise<void> {
    const cursor = parseLastEventId(lastEventId);
    const release = this.reserveSlot(user);
    let job;
    try {
      job = await this.query.getJob(user, id); // 404 for a job this user may not read
    } catch (err) {
      release();
      throw err;
    }

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const streamClosed = this.metrics.streamOpened();
    let feed = this.feeds.get(id);
    if (!feed) {
      const owner = { submittedBy: job.submittedBy, inventory: job.inventory };
      const created: JobFeed = new JobFeed(id, owner, this.store, this.bus, this.logger, () => {
        if (this.feeds.get(id) === created) this.feeds.delete(id);
      });
      this.feeds.set(id, created);
      feed = created;
    }
    await new Promise<void>((resolve) => {
      const subscriber: FeedSubscriber = {
        user: user.name,
        res,
        cursor,
        lastStatus: null,
        lastWrite: Date.now(),
        ended: false,
        onEnd: () => {
          streamClosed();
          release();
          resolve();
        },
      };
      feed.add(subscriber);
      // The gateway's shutdown ends the stream after a reconnect hint (LiveStreams writes `retry:`).
      const shared = feed;
      this.liveStreams.track(res, () => shared.close(subscriber, SHUTDOWN_CLOSE_REASON));
    });
  }

  /**
   * Counts a stream against max_streams_per_user and max_streams, synchronously, so streams
   * opened at the same moment cannot all pass one count; returns the function that gives the
   * slot back (idempotent).
   */
  private reserveSlot(user: AuthenticatedUser): () => void {
    const mine = this.openByUser.get(user.name) ?? 0;
    if (mine >= this.config.maxStreamsPerUser) {
      throw new StreamLimitReachedError(
        `User ${user.name} already has ${mine} streams open (max_streams_per_user is ${this.config.maxStreamsPerUser}); close one or try again later`,
      );
    }
    if (this.open >= this.config.maxStreams) {
      throw new StreamLimitReachedError(`This gateway already has ${this.open} streams open (max_streams is ${this.config.maxStreams}); try again later`);
    }
    this.openByUser.set(user.name, mine + 1);
    this.open++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.open--;
      const left = (this.openByUser.get(user.name) ?? 1) - 1;
      if (left > 0) this.openByUser.set(user.name, left);
      else this.openByUser.delete(user.name);
    };
  }

  /** After an rbac.json reload: each stream whose user (as the file says now) may no longer read its job ends. */
  private recheckRights(): void {
    for (const feed of [...this.feeds.values()]) {
      // Once per user and job, however many streams they have open to it.
      const mayRead = new Map<string, boolean>();
      for (const subscriber of feed.streams) {
        let allowed = mayRead.get(subscriber.user);
        if (allowed === undefined) {
          const user = this.rbac.userNamed(subscriber.user);
          allowed = user !== undefined && this.policy.canRead(user, feed.owner);
          mayRead.set(subscriber.user, allowed);
        }
        if (allowed) continue;
        this.logger.log(`Ending a stream of job ${feed.jobId}: ${subscriber.user} may no longer read it`);
        feed.close(subscriber, `access revoked: ${subscriber.user} may no longer read this job (rbac.json changed)`);
      }
    }
  }
}
