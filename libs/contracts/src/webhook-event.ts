/**
 * The events a webhook subscription may ask for: a job started running, and a job reached a
 * terminal state (whatever ended it: its runner, a cancel of a queued job, the lost-runner sweep).
 * The store records them in the transaction that changes the job's status; the gateway sends them.
 */
export const WebhookEventType = {
  JobStarted: 'job.started',
  JobFinished: 'job.finished',
} as const;
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType];

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.values(WebhookEventType);

/** Bounds of a subscription, checked at the edge before anything is stored. */
export const WebhookLimits = {
  /** Subscriptions one user may hold: each multiplies the rows every job's status change writes. */
  perUser: 25,
  /** Longest URL a subscription may name. */
  urlLength: 2048,
  /** Most attempts GET /api/v1/webhooks/{id}/deliveries answers with. */
  attemptsPage: 100,
} as const;
