import { HostSummary, JobEvent, JobOutcome, JobStatus, NewJobEvent } from '@flansible/contracts';
import { Kysely, sql } from 'kysely';
import { ApiTokenFilter, ApiTokenRecord, NewApiToken } from './api-token-records';
import { CancelResult, CreatedJob, EventQuery, JobListCursor, JobListFilter, JobRecord, NewJob, OutputLines } from './job-records';
import { JobStore } from './job-store';
import { ApiTokenRepository } from './repositories/api-token.repository';
import { JobEventRepository } from './repositories/job-event.repository';
import { JobHistoryRepository } from './repositories/job-history.repository';
import { JobOutputRepository } from './repositories/job-output.repository';
import { JobPublicationRepository } from './repositories/job-publication.repository';
import { JobRepository } from './repositories/job.repository';
import { RunnerRepository } from './repositories/runner.repository';
import { WebhookDeliveryRepository } from './repositories/webhook-delivery.repository';
import { WebhookSubscriptionRepository } from './repositories/webhook-subscription.repository';
import { StoreDatabase, StoreDialect } from './store-database';
import { migrateToLatest } from './store-migrations';
import { NewWebhook, WebhookAttemptRecord, WebhookAttemptResult, WebhookDelivery, WebhookDeliveryNext, WebhookRecord } from './webhook-records';

/**
 * Every face of the store (GatewayJobStore, RunnerJobStore, ApiTokenStore, WebhookStore) over one Kysely instance: the same SQL
 * for SQLite and PostgreSQL, only the dialect given to the constructor differs (see
 * createJobStore). Each method hands over to the repository of its aggregate.
 */
export class KyselyJobStore implements JobStore {
  private readonly jobs: JobRepository;
  private readonly publications: JobPublicationRepository;
  private readonly history: JobHistoryRepository;
  private readonly output: JobOutputRepository;
  private readonly events: JobEventRepository;
  private readonly runners: RunnerRepository;
  private readonly apiTokens: ApiTokenRepository;
  private readonly webhooks: WebhookSubscriptionRepository;
  private readonly deliveries: WebhookDeliveryRepository;
  private closed?: Promise<void>;

  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {
    this.jobs = new JobRepository(db, dialect);
    this.publications = new JobPublicationRepository(db);
    this.history = new JobHistoryRepository(db, dialect);
    this.output = new JobOutputRepository(db);
    this.events = new JobEventRepository(db);
    this.runners = new RunnerRepository(db);
    this.apiTokens = new ApiTokenRepository(db);
    this.webhooks = new WebhookSubscriptionRepository(db);
    this.deliveries = new WebhookDeliveryRepository(db, dialect);
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.db, this.dialect);
  }

  createJob(job: NewJob): Promise<CreatedJob> {
    return this.jobs.create(job);
  }
  confirmIdempotencyKey(id: string): Promise<void> {
    return this.jobs.confirmIdempotencyKey(id);
  }
  deleteJob(id: string): Promise<void> {
    return this.jobs.delete(id);
  }
  findJob(id: string): Promise<JobRecord | undefined> {
    return this.jobs.find(id);
  }
  countOpenJobs(submittedBy: string): Promise<number> {
    return this.jobs.countOpen(submittedBy);
  }
  findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]> {
    return this.jobs.findByStatus(statuses);
  }
  claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean> {
    return this.jobs.claim(id, runnerId, startedAt);
  }
  claimNextJob(runnerId: string, startedAt: Date, preferredId?: string): Promise<JobRecord | null> {
    return this.jobs.claimNext(runnerId, startedAt, preferredId);
  }
  completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    return this.jobs.complete(id, outcome, finishedAt);
  }
  cancelJob(id: string, reason: string, at: Date): Promise<CancelResult> {
    return this.jobs.cancel(id, reason, at);
  }
  findCancelRequests(runnerId: string): Promise<string[]> {
    return this.jobs.findRunningOn(runnerId, true);
  }
  findJobsRunningOn(runnerId: string): Promise<string[]> {
    return this.jobs.findRunningOn(runnerId);
  }

  markPublished(id: string, at: Date): Promise<void> {
    return this.publications.markPublished(id, at);
  }
  findUnpublishedJobs(createdBefore: Date, limit: number): Promise<JobRecord[]> {
    return this.publications.findUnpublished(createdBefore, limit);
  }

  listJobs(filter: JobListFilter, limit: number, cursor?: JobListCursor): Promise<JobRecord[]> {
    return this.history.list(filter, limit, cursor);
  }
  purgeFinishedBefore(before: Date): Promise<number> {
    return this.history.purgeFinishedBefore(before);
  }

  appendOutput(id: string, chunk: string): Promise<void> {
    return this.output.append(id, chunk);
  }
  readOutput(id: string): Promise<string> {
    return this.output.read(id);
  }
  readOutputLines(id: string, from: number, to: number): Promise<OutputLines> {
    return this.output.readLines(id, from, to);
  }

  appendEvents(id: string, events: NewJobEvent[]): Promise<void> {
    return this.events.append(id, events);
  }
  readEvents(id: string, query: EventQuery): Promise<JobEvent[]> {
    return this.events.read(id, query);
  }
  summarize(id: string): Promise<HostSummary[]> {
    return this.events.summarize(id);
  }

  recordHeartbeat(runnerId: string, at: Date): Promise<void> {
    return this.runners.recordHeartbeat(runnerId, at);
  }
  removeRunner(runnerId: string): Promise<void> {
    return this.runners.remove(runnerId);
  }
  failJobsOfLostRunners(staleBefore: Date, reason: string, at: Date): Promise<string[]> {
    return this.runners.failJobsOfLostRunners(staleBefore, reason, at);
  }
  forgetSilentRunners(before: Date): Promise<number> {
    return this.runners.forgetSilent(before);
  }

  createApiToken(token: NewApiToken): Promise<void> {
    return this.apiTokens.create(token);
  }
  findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    return this.apiTokens.findByHash(secretHash);
  }
  listApiTokens(filter: ApiTokenFilter): Promise<ApiTokenRecord[]> {
    return this.apiTokens.list(filter);
  }
  revokeApiToken(id: string, user?: string): Promise<boolean> {
    return this.apiTokens.revoke(id, user);
  }
  recordApiTokenUse(id: string, at: Date, recordedSince: Date): Promise<void> {
    return this.apiTokens.recordUse(id, at, recordedSince);
  }

  createWebhook(webhook: NewWebhook, maxPerOwner: number): Promise<boolean> {
    return this.webhooks.create(webhook, maxPerOwner);
  }
  findWebhook(id: string): Promise<WebhookRecord | undefined> {
    return this.webhooks.find(id);
  }
  listWebhooks(owner?: string): Promise<WebhookRecord[]> {
    return this.webhooks.list(owner);
  }
  deleteWebhook(id: string): Promise<boolean> {
    return this.webhooks.delete(id);
  }

  claimWebhookDeliveries(now: Date, leaseMs: number, leaseToken: string, limit: number): Promise<WebhookDelivery[]> {
    return this.deliveries.claim(now, leaseMs, leaseToken, limit);
  }
  saveWebhookPayload(id: string, leaseToken: string, payload: string): Promise<void> {
    return this.deliveries.savePayload(id, leaseToken, payload);
  }
  recordWebhookAttempt(id: string, leaseToken: string, result: WebhookAttemptResult, next: WebhookDeliveryNext): Promise<boolean> {
    return this.deliveries.recordAttempt(id, leaseToken, result, next);
  }
  skipWebhookDelivery(id: string, leaseToken: string): Promise<void> {
    return this.deliveries.skip(id, leaseToken);
  }
  releaseWebhookDeliveries(ids: string[], leaseToken: string, at: Date): Promise<void> {
    return this.deliveries.release(ids, leaseToken, at);
  }
  listWebhookAttempts(subscriptionId: string, limit: number): Promise<WebhookAttemptRecord[]> {
    return this.deliveries.listAttempts(subscriptionId, limit);
  }

  /** Releases the connection(s); safe to call more than once. */
  close(): Promise<void> {
    this.closed ??= this.db.destroy();
    return this.closed;
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }
}
