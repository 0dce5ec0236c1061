import { WebhookEventType } from '@flansible/contracts';
import { Kysely, sql } from 'kysely';
import { StoreDatabase, StoreDialect } from '../store-database';
import { WebhookAttemptRecord, WebhookAttemptResult, WebhookDelivery, WebhookDeliveryNext } from '../webhook-records';
import { storableOrNull } from './job-rows';

/** Where a delivery stands (webhook_deliveries.state). Only pending ones are ever claimed. */
const DeliveryState = { Pending: 'pending', Delivered: 'delivered', Failed: 'failed', Skipped: 'skipped' } as const;
/**
 * A literal, not a parameter: SQLite uses the partial index webhook_deliveries_due_idx only for a
 * term it can match against the index's own WHERE when the statement is prepared.
 */
const PENDING = sql.lit(DeliveryState.Pending);

/**
 * The deliveries the status changes wrote (the triggers of migration 0009) and their attempts. A claim leases
 * a delivery by moving its next_attempt_at past the lease and stamping its lease_token: while the
 * lease runs no claim sees it as due, a dispatcher that dies leaves it due again once the lease
 * has run out, and every later update is guarded by the token. So one column both schedules
 * retries and expires leases, and one partial index serves the claim.
 */
export class WebhookDeliveryRepository {
  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {}

  /**
   * One UPDATE over the due rows. PostgreSQL: FOR UPDATE SKIP LOCKED, so gateways claiming at the
   * same moment take different rows instead of queueing on the same ones (and the outer WHERE
   * repeats the test for rows a finished claim released). SQLite: one writer at a time. The pick
   * is a MATERIALIZED CTE: as a plain `IN (subquery)` PostgreSQL may run it again for each row it
   * updates, and each run, no longer seeing the rows just leased as due, locks the next ones, so a
   * claim took more than `limit`.
   */
  async claim(now: Date, leaseMs: number, leaseToken: string, limit: number): Promise<WebhookDelivery[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .with(
        (cte) => cte('due').materialized(),
        (db) =>
          db
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('state', '=', PENDING)
            .where('next_attempt_at', '<=', now.getTime())
            .orderBy('next_attempt_at')
            .orderBy('id')
            .limit(Math.floor(limit))
            .$if(this.dialect === 'postgres', (qb) => qb.forUpdate().skipLocked()),
      )
      .updateTable('webhook_deliveries')
      .set({ lease_token: leaseToken, next_attempt_at: now.getTime() + leaseMs })
      .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
      .where('state', '=', PENDING)
      .where('next_attempt_at', '<=', now.getTime())
      .returning(['id', 'subscription_id', 'job_id', 'event_type', 'occurred_at', 'attempts', 'payload'])
      .execute();
    return rows
      .map((row) => ({
        id: String(row.id),
        subscriptionId: row.subscription_id,
        jobId: row.job_id,
        eventType: row.event_type as WebhookEventType,
        occurredAt: new Date(Number(row.occurred_at)),
        attempts: Number(row.attempts),
        payload: row.payload,
      }))
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || Number(a.id) - Number(b.id));
  }

  async savePayload(id: string, leaseToken: string, payload: string): Promise<void> {
    await this.db.updateTable('webhook_deliveries').set({ payload }).where('id', '=', id).where('lease_token', '=', leaseToken).execute();
  }

  /** The attempt row only when the delivery was still this lease's: a lost lease records nothing. */
  async recordAttempt(id: string, leaseToken: string, result: WebhookAttemptResult, next: WebhookDeliveryNext): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          lease_token: null,
          ...('settled' in next ? { state: next.settled } : { next_attempt_at: next.retryAt.getTime() }),
        }))
        .where('id', '=', id)
        .where('lease_token', '=', leaseToken)
        .where('state', '=', PENDING)
        .returning(['subscription_id', 'attempts'])
        .executeTakeFirst();
      if (!updated) return false;
      await trx
        .insertInto('webhook_attempts')
        .values({
          delivery_id: id,
          subscription_id: updated.subscription_id,
          attempt: Number(updated.attempts),
          attempted_at: result.attemptedAt.getTime(),
          duration_ms: Math.max(0, Math.round(result.durationMs)),
          status_code: result.statusCode,
          error: storableOrNull(result.error),
        })
        .execute();
      return true;
    });
  }

  async skip(id: string, leaseToken: string): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ state: DeliveryState.Skipped, lease_token: null })
      .where('id', '=', id)
      .where('lease_token', '=', leaseToken)
      .execute();
  }

  async release(ids: string[], leaseToken: string, at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: at.getTime(), lease_token: null })
      .where('id', 'in', ids)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', PENDING)
      .execute();
  }

  async listAttempts(subscriptionId: string, limit: number): Promise<WebhookAttemptRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
      .select(['a.subscription_id', 'd.job_id', 'd.event_type', 'a.attempt', 'a.attempted_at', 'a.duration_ms', 'a.status_code', 'a.error'])
      .where('a.subscription_id', '=', subscriptionId)
      .orderBy('a.id', 'desc')
      .limit(Math.floor(limit))
      .execute();
    return rows.map((row) => ({
      subscriptionId: row.subscription_id,
      jobId: row.job_id,
      eventType: row.event_type as WebhookEventType,
      attempt: Number(row.attempt),
      attemptedAt: new Date(Number(row.attempted_at)),
      durationMs: Number(row.duration_ms),
      statusCode: row.status_code,
      error: row.error,
    }));
  }
}
