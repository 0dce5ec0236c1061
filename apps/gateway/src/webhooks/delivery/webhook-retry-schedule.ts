import { backoffDelay } from '@flansible/contracts';
import { FlansibleConfig } from '@flansible/config';
import { WebhookDeliveryNext } from '@flansible/store';

/**
 * What becomes of a delivery after an attempt, the `attempts`-th (1 for the first): delivered on
 * a 2xx; otherwise retried after the next wait of webhook_retry_delays_ms (the last one repeats)
 * until webhook_max_attempts attempts have been made, then given up.
 */
export function nextAfterAttempt(
  config: Pick<FlansibleConfig, 'webhookMaxAttempts' | 'webhookRetryDelaysMs'>,
  attempts: number,
  succeeded: boolean,
  now: Date,
): WebhookDeliveryNext {
  if (succeeded) return { settled: 'delivered' };
  if (attempts >= config.webhookMaxAttempts) return { settled: 'failed' };
  return { retryAt: new Date(now.getTime() + backoffDelay(attempts, config.webhookRetryDelaysMs)) };
}
