import { WebhookEventType } from '@flansible/contracts';

/** A subscription as the gateway creates it. */
export interface NewWebhook {
  id: string;
  owner: string;
  url: string;
  /** whsec_<base64>, the signing key. */
  secret: string;
  events: readonly WebhookEventType[];
  createdAt: Date;
}

/** A subscription as the store keeps it (the secret included: the dispatcher signs with it). */
export type WebhookRecord = NewWebhook;

/** One event of one job for one subscription, as a dispatcher's claim hands it over. */
export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  jobId: string;
  eventType: WebhookEventType;
  occurredAt: Date;
  /** Attempts made before this one. */
  attempts: number;
  /** The body the first attempt fixed, or null before the first attempt. */
  payload: string | null;
}

/** What one attempt got: an HTTP status, or the error that kept it from one. */
export interface WebhookAttemptResult {
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

/** What becomes of a delivery after an attempt: tried again at `retryAt`, or settled. */
export type WebhookDeliveryNext = { retryAt: Date } | { settled: 'delivered' | 'failed' };

/** One attempt, for the deliveries API, newest first. */
export interface WebhookAttemptRecord {
  subscriptionId: string;
  jobId: string;
  eventType: WebhookEventType;
  /** 1 for the first attempt of its delivery. */
  attempt: number;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}
