import { BadRequestException, Injectable, Logger, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthenticatedUser } from '@flansible/auth';
import { WEBHOOK_EVENT_TYPES, WebhookLimits } from '@flansible/contracts';
import { WebhookAttemptRecord, WebhookRecord, WebhookStore } from '@flansible/store';
import { newWebhookSecret, webhookMessageId } from './delivery/webhook-signature';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { CreatedWebhookDto, WebhookAttemptDto, WebhookAttemptPageDto, WebhookDto, WebhookListDto } from './dto/webhook.dto';
import { WebhookTargetPolicy, WebhookTargetRefused } from './target/webhook-target.policy';

const DEFAULT_ATTEMPTS_PAGE = 50;
/** Subscription ids are UUIDs: anything else is unknown before it reaches the store (PostgreSQL refuses a NUL with an error). */
const WEBHOOK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function webhookPath(id: string): string {
  return `/api/v1/webhooks/${id}`;
}

/**
 * Subscriptions: who may make, see and remove which. Anyone signed in may subscribe (events come
 * only for the jobs they may read); a user sees and removes their own subscriptions, an admin
 * anyone's; anyone else's answers 404, exactly as an unknown id.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly store: WebhookStore,
    private readonly targets: WebhookTargetPolicy,
  ) {}

  async create(user: AuthenticatedUser, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    try {
      await this.targets.check(dto.url);
    } catch (err) {
      if (err instanceof WebhookTargetRefused) throw new BadRequestException(err.message);
      throw err;
    }
    const webhook: WebhookRecord = {
      id: randomUUID(),
      owner: user.name,
      url: dto.url,
      secret: newWebhookSecret(),
      events: WEBHOOK_EVENT_TYPES.filter((event) => dto.events.includes(event)),
      createdAt: new Date(),
    };
    if (!(await this.store.createWebhook(webhook, WebhookLimits.perUser))) {
      throw new UnprocessableEntityException(`A user may have at most ${WebhookLimits.perUser} webhooks; delete one first`);
    }
    // The URL's path or query may carry a receiver's token: the log names the host only.
    this.logger.log(`Webhook ${webhook.id} for ${user.name}: ${webhook.events.join(', ')} to ${new URL(webhook.url).host}`);
    return { ...toDto(webhook), secret: webhook.secret };
  }

  async list(user: AuthenticatedUser): Promise<WebhookListDto> {
    return { items: (await this.store.listWebhooks(user.isAdmin ? undefined : user.name)).map(toDto) };
  }

  async get(user: AuthenticatedUser, id: string): Promise<WebhookDto> {
    return toDto(await this.find(user, id));
  }

  async delete(user: AuthenticatedUser, id: string): Promise<void> {
    await this.find(user, id);
    await this.store.deleteWebhook(id);
    this.logger.log(`Webhook ${id} deleted by ${user.name}`);
  }

  async attempts(user: AuthenticatedUser, id: string, limit = DEFAULT_ATTEMPTS_PAGE): Promise<WebhookAttemptPageDto> {
    await this.find(user, id);
    return { items: (await this.store.listWebhookAttempts(id, limit)).map(toAttemptDto) };
  }

  private async find(user: AuthenticatedUser, id: string): Promise<WebhookRecord> {
    const webhook = WEBHOOK_ID.test(id) ? await this.store.findWebhook(id) : undefined;
    if (!webhook || (!user.isAdmin && webhook.owner !== user.name)) throw new NotFoundException('Webhook not found');
    return webhook;
  }
}

function toDto(webhook: WebhookRecord): WebhookDto {
  return { id: webhook.id, url: webhook.url, events: [...webhook.events], owner: webhook.owner, created_at: webhook.createdAt.toISOString() };
}

function toAttemptDto(attempt: WebhookAttemptRecord): WebhookAttemptDto {
  return {
    webhook_id: webhookMessageId(attempt.subscriptionId, attempt.jobId, attempt.eventType),
    type: attempt.eventType,
    job_id: attempt.jobId,
    attempt: attempt.attempt,
    attempted_at: attempt.attemptedAt.toISOString(),
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
  };
}
