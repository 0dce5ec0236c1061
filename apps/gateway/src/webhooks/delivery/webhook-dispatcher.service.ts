import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FlansibleConfig } from '@flansible/config';
import { WebhookDelivery, WebhookStore } from '@flansible/store';
import { DeliveryOutcome, WebhookDeliverer } from './webhook-deliverer';

/** Attempts one gateway has in flight at once; a slow receiver holds one for up to webhook_timeout_ms. */
const MAX_IN_FLIGHT = 16;
/** How long a claimed delivery stays this gateway's beyond its attempt's own time limit (store writes). */
const LEASE_MARGIN_MS = 15_000;

/**
 * Sends the webhook deliveries the store holds, from every gateway of both deployments. The
 * status changes write them durably (triggers on jobs, migration 0009) whichever process makes
 * them; each gateway looks for due ones every webhook_poll_interval_ms, and as soon as one of
 * its attempts ends, and claims them under a lease (next_attempt_at moved past the attempt's
 * time limit plus a margin, with a token of its own): PostgreSQL's FOR UPDATE SKIP LOCKED keeps
 * gateways claiming at once apart, and no other gateway sees a leased delivery as due. So no
 * delivery is attempted by two gateways at once, and one whose gateway died mid-attempt (kill -9)
 * is due again once its lease has run out: at least once, never lost. A stopping gateway
 * aborts its attempts and hands their deliveries back at once.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly leaseMs: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  /** Another look is owed: something was due beyond the free slots, or an attempt ended meanwhile. */
  private again = false;
  private storeFailing = false;

  constructor(
    private readonly config: FlansibleConfig,
    private readonly store: WebhookStore,
    private readonly deliverer: WebhookDeliverer,
  ) {
    this.leaseMs = config.webhookTimeoutMs + LEASE_MARGIN_MS;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), this.config.webhookPollIntervalMs);
    this.timer.unref();
    void this.poll();
  }

  /** Before the store closes (its onApplicationShutdown): the aborted attempts hand their deliveries back. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.polling;
    await Promise.allSettled([...this.inFlight]);
  }

  /** One look for due deliveries; starts an attempt for each it claims. Never overlaps itself. */
  poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = this.claimAndStart().finally(() => {
      this.polling = null;
      if (this.again && !this.stopping.signal.aborted) {
        this.again = false;
        void this.poll();
      }
    });
    return this.polling;
  }

  private async claimAndStart(): Promise<void> {
    const free = MAX_IN_FLIGHT - this.inFlight.size;
    if (free <= 0 || this.stopping.signal.aborted) return;
    const leaseToken = randomUUID();
    let claimed: WebhookDelivery[];
    try {
      claimed = await this.store.claimWebhookDeliveries(new Date(), this.leaseMs, leaseToken, free);
      if (this.storeFailing) this.logger.log('Webhook deliveries can be claimed again');
      this.storeFailing = false;
    } catch (err) {
      // Once per outage, not every poll: the store's own readiness check reports it too.
      if (!this.storeFailing) this.logger.error(`Could not claim webhook deliveries: ${(err as Error).message}; retrying every poll`);
      this.storeFailing = true;
      return;
    }
    for (const delivery of claimed) this.start(delivery, leaseToken);
    if (claimed.length === free) this.again = true;
  }

  private start(delivery: WebhookDelivery, leaseToken: string): void {
    const attempt: Promise<DeliveryOutcome | void> = this.deliverer
      .deliver(delivery, leaseToken, this.stopping.signal)
      .catch((err: Error) => {
        // The store failed mid-way: the lease runs out and another look takes the delivery up again.
        this.logger.error(`Webhook delivery ${delivery.id} (job ${delivery.jobId}) broke off: ${err.message}`);
      })
      .finally(() => {
        this.inFlight.delete(attempt);
        if (!this.stopping.signal.aborted) void this.poll();
      });
    this.inFlight.add(attempt);
  }
}
