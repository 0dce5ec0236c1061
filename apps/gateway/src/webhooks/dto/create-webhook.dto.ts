import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsDefined, IsIn, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENT_TYPES, WebhookEventType, WebhookLimits } from '@flansible/contracts';

/** POST /api/v1/webhooks: where to send which events of the jobs the caller may read. */
export class CreateWebhookDto {
  /**
   * An absolute http:// or https:// URL, without credentials; it must not reach a loopback,
   * private, link-local, unique-local, CGNAT or metadata address unless webhook_allowed_hosts
   * allows it. Redirects are not followed.
   */
  @ApiProperty({ maxLength: WebhookLimits.urlLength, example: 'https://hooks.example.com/flansible' })
  @MaxLength(WebhookLimits.urlLength)
  @IsString()
  @IsDefined({ message: '$property is required' })
  url!: string;

  /** The events to receive: job.started (a runner started it), job.finished (it reached a terminal status). */
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, uniqueItems: true })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  @ArrayUnique({ message: 'events must not repeat an event' })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayNotEmpty({ message: 'events must name at least one event' })
  @IsArray()
  @IsDefined({ message: '$property is required' })
  events!: WebhookEventType[];
}
