import { Injectable, Logger } from '@nestjs/common';
import { AuthenticatedUser, JobPolicyService, RbacService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { GatewayJobStore, JobRecord, WebhookDelivery, WebhookStore } from '@flansible/store';
import { JobQueryService } from '../../jobs/job-query.service';
import { WebhookTargetPolicy, WebhookTargetRefused } from '../target/webhook-target.policy';
import { nextAfterAttempt } from './webhook-retry-schedule';
import { noAnswerWithin, WebhookSender, WebhookSendError } from './webhook-sender';
import { signedHeaders, webhookMessageId } from './webhook-signature';

/** What one claimed delivery came to, for the dispatcher's log and metrics. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'failed' | 'skipped' | 'released' | 'lease-lost';

/**
 * One attempt of one claimed delivery, end to end: the owner's right to read the job as rbac.json
 * says now (no right, or no subscription or job any more: skipped, nothing sent), the body (fixed
 * at the first attempt), the target checked again (its DNS answer may have changed since the
 * subscription), the Standard Webhooks signature, the POST, and what the store records of it.
 */
@Injectable()
export class WebhookDeliverer {
  private readonly logger = new Logger(WebhookDeliverer.name);

  constructor(
    private readonly config: FlansibleConfig,
    private readonly webhooks: WebhookStore,
    private readonly jobs: GatewayJobStore,
    private readonly rbac: RbacService,
    private readonly policy: JobPolicyService,
    private readonly query: JobQueryService,
    private readonly targets: WebhookTargetPolicy,
    private readonly sender: WebhookSender,
  ) {}

  /** `stopping` aborts the attempt in flight; the delivery then goes back unattempted. */
  async deliver(delivery: WebhookDelivery, leaseToken: string, stopping: AbortSignal): Promise<DeliveryOutcome> {
    const subscription = await this.webhooks.findWebhook(delivery.subscriptionId);
    const job = subscription && (await this.jobs.findJob(delivery.jobId));
    const owner = subscription && this.rbac.userNamed(subscription.owner);
    if (!subscription || !job || !owner || !this.policy.canRead(owner, job)) {
      await this.webhooks.skipWebhookDelivery(delivery.id, leaseToken);
      return 'skipped';
    }
    const body = delivery.payload ?? (await this.fixPayload(delivery, leaseToken, owner, job));
    const messageId = webhookMessageId(subscription.id, delivery.jobId, delivery.eventType);

    const attemptedAt = new Date();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const signal = AbortSignal.any([stopping, AbortSignal.timeout(this.config.webhookTimeoutMs)]);
      const target = await abortable(this.targets.check(subscription.url), signal, this.config.webhookTimeoutMs);
      ({ statusCode } = await this.sender.post(target, signedHeaders(subscription.secret, messageId, new Date(), body), body, signal, this.config.webhookTimeoutMs));
      if (statusCode < 200 || statusCode > 299) error = statusCode >= 300 && statusCode < 400 ? `HTTP ${statusCode} (redirects are not followed)` : `HTTP ${statusCode}`;
    } catch (err) {
      if (stopping.aborted) {
        await this.webhooks.releaseWebhookDeliveries([delivery.id], leaseToken, new Date());
        return 'released';
      }
      if (!(err instanceof WebhookTargetRefused || err instanceof WebhookSendError)) throw err;
      error = err.message;
    }
    const attempts = delivery.attempts + 1;
    const next = nextAfterAttempt(this.config, attempts, error === null, new Date());
    const result = { attemptedAt, durationMs: Date.now() - attemptedAt.getTime(), statusCode, error };
    if (!(await this.webhooks.recordWebhookAttempt(delivery.id, leaseToken, result, next))) {
      this.logger.warn(`Webhook ${messageId} attempt ${attempts} outlived its lease; another gateway has taken the delivery over`);
      return 'lease-lost';
    }
    if (error !== null) {
      const then = 'retryAt' in next ? `next attempt at ${next.retryAt.toISOString()}` : 'given up';
      this.logger.warn(`Webhook ${messageId} (${delivery.eventType} of job ${delivery.jobId}) attempt ${attempts} failed: ${error}; ${then}`);
    }
    return 'settled' in next ? next.settled : 'retry';
  }

  /**
   * The body, as the owner may see the job now: the same resource GET /api/v1/jobs/{id} answers
   * them (extra vars by name only; module_args values only for the submitter and admins).
   */
  private async fixPayload(delivery: WebhookDelivery, leaseToken: string, owner: AuthenticatedUser, job: JobRecord): Promise<string> {
    const body = JSON.stringify({ type: delivery.eventType, timestamp: delivery.occurredAt.toISOString(), data: this.query.toResource(owner, job) });
    await this.webhooks.saveWebhookPayload(delivery.id, leaseToken, body);
    return body;
  }
}

/** `work`, or a rejection once `signal` aborts (a resolver that hangs cannot be cancelled itself). */
function abortable<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(noAnswerWithin(timeoutMs));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
