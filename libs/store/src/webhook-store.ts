import { WebhookAttemptRecord, WebhookAttemptResult, WebhookDelivery, WebhookDeliveryNext, NewWebhook, WebhookRecord } from './webhook-records';

/**
 * The store as the gateway's webhooks see it (also its DI token): subscriptions, and the
 * deliveries the store wrote when jobs changed status (in the same transaction as the change,
 * whichever process made it), claimed by dispatchers under a lease. Every update of a claimed
 * delivery is guarded by the claim's lease token, so a dispatcher whose lease ran out (it hung,
 * another took over) changes nothing.
 */
export abstract class WebhookStore {
  /**
   * Stores a subscription with its event types, all or nothing; false (nothing stored) when its
   * owner already has `maxPerOwner` subscriptions.
   */
  abstract createWebhook(webhook: NewWebhook, maxPerOwner: number): Promise<boolean>;
  abstract findWebhook(id: string): Promise<WebhookRecord | undefined>;
  /** Subscriptions oldest first: the owner's, or everyone's when `owner` is undefined. */
  abstract listWebhooks(owner?: string): Promise<WebhookRecord[]>;
  /** Removes a subscription with its pending deliveries and their attempts; false when there was none. */
  abstract deleteWebhook(id: string): Promise<boolean>;

  /**
   * Claims up to `limit` pending deliveries due at `now`, oldest due first, for `leaseMs`: they
   * are due again (for any dispatcher) only once the lease has run out. Concurrent claims never
   * hand out one delivery twice (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer).
   */
  abstract claimWebhookDeliveries(now: Date, leaseMs: number, leaseToken: string, limit: number): Promise<WebhookDelivery[]>;
  /** Fixes the body a delivery sends at every attempt (set at its first). */
  abstract saveWebhookPayload(id: string, leaseToken: string, payload: string): Promise<void>;
  /** Records an attempt and what becomes of the delivery, in one transaction; false when the lease was lost. */
  abstract recordWebhookAttempt(id: string, leaseToken: string, result: WebhookAttemptResult, next: WebhookDeliveryNext): Promise<boolean>;
  /** Settles a delivery without an attempt: its owner may not read the job, or its subscription is gone. */
  abstract skipWebhookDelivery(id: string, leaseToken: string): Promise<void>;
  /** Hands claimed deliveries back, due at `at` (a stopping dispatcher). */
  abstract releaseWebhookDeliveries(ids: string[], leaseToken: string, at: Date): Promise<void>;
  /** The latest attempts of a subscription's deliveries, newest first. */
  abstract listWebhookAttempts(subscriptionId: string, limit: number): Promise<WebhookAttemptRecord[]>;
}
