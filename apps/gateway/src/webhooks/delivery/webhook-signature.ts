import { createHash, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { WebhookEventType } from '@flansible/contracts';

/** Bytes of a signing key: 256 bits, as long as HMAC-SHA256's own block of output. */
const SECRET_BYTES = 32;

/** A new signing secret in the Standard Webhooks format, `whsec_<base64>`. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The webhook-id of one event for one subscription: the same for every attempt (receivers
 * deduplicate on it), derived from what identifies the delivery rather than stored, and telling
 * nothing about either id it is made of.
 */
export function webhookMessageId(subscriptionId: string, jobId: string, event: WebhookEventType): string {
  const digest = createHash('sha256').update(`${subscriptionId}\n${jobId}\n${event}`).digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}

/** The three Standard Webhooks headers of one attempt, signed with the standardwebhooks package. */
export function signedHeaders(secret: string, messageId: string, sentAt: Date, body: string): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, sentAt, body),
  };
}
