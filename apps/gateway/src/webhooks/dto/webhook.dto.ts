import { ApiProperty } from '@nestjs/swagger';
import { WEBHOOK_EVENT_TYPES, WebhookEventType, WebhookLimits } from '@flansible/contracts';
import { QueryInteger } from '../../common/query-integer.decorator';

/** A webhook subscription (its secret is shown only once, in the answer that created it). */
export class WebhookDto {
  id!: string;
  url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  events!: WebhookEventType[];
  /** The user it belongs to: it receives events of the jobs this user may read, as rbac.json says at each delivery. */
  owner!: string;
  /** ISO 8601. */
  created_at!: string;
}

/** The answer to POST /api/v1/webhooks: the subscription and, this once, its signing secret. */
export class CreatedWebhookDto extends WebhookDto {
  /**
   * The Standard Webhooks signing secret (`whsec_<base64>`): verify each delivery's
   * `webhook-signature` with it. Shown only in this answer; store it now.
   */
  secret!: string;
}

export class WebhookListDto {
  /** The caller's subscriptions (an admin's: everyone's), oldest first. */
  items!: WebhookDto[];
}

/** One attempt to deliver one event. */
export class WebhookAttemptDto {
  /** The webhook-id header: the same for every attempt of one event. */
  webhook_id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  type!: WebhookEventType;
  job_id!: string;
  /** 1 for the first attempt of this event. */
  attempt!: number;
  /** When it was made, ISO 8601. */
  attempted_at!: string;
  /** The receiver's status code, or null when there was no answer. */
  @ApiProperty({ type: Number, nullable: true })
  status_code!: number | null;
  /** Why it failed (a non-2xx status, a timeout, a refused connection, a refused address), or null for a 2xx. */
  @ApiProperty({ type: String, nullable: true })
  error!: string | null;
  duration_ms!: number;
}

export class WebhookAttemptPageDto {
  /** Newest first. */
  items!: WebhookAttemptDto[];
}

/** GET /api/v1/webhooks/{id}/deliveries query. */
export class WebhookAttemptsQueryDto {
  /** How many of the latest attempts, 1-100; default 50. */
  @QueryInteger({ min: 1, max: WebhookLimits.attemptsPage })
  limit?: number;
}
