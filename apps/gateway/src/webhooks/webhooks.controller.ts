import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedUser, CurrentUser } from '@flansible/auth';
import { ApiAuthenticated } from '../common/api-error-responses';
import { ErrorBodyDto } from '../common/error-body.dto';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { CreatedWebhookDto, WebhookAttemptPageDto, WebhookAttemptsQueryDto, WebhookDto, WebhookListDto } from './dto/webhook.dto';
import { webhookPath, WebhooksService } from './webhooks.service';

const NOT_FOUND = { type: ErrorBodyDto, description: "Unknown webhook, or another user's" };

/**
 * Signed outbound webhooks (Standard Webhooks): job.started and job.finished of the jobs the
 * subscriber may read, POSTed with webhook-id, webhook-timestamp and webhook-signature headers.
 */
@ApiTags('webhooks')
@ApiAuthenticated()
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Subscribe: the answer carries the signing secret, this once. */
  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCreatedResponse({ type: CreatedWebhookDto, headers: { Location: { description: "The webhook's URL", schema: { type: 'string' } } } })
  @ApiBadRequestResponse({
    type: ErrorBodyDto,
    description: 'Missing, mistyped or unknown field; a URL that is not http(s), carries credentials, does not resolve or reaches an address webhooks may not reach',
  })
  @ApiUnprocessableEntityResponse({ type: ErrorBodyDto, description: 'The user already has the most webhooks a user may have' })
  @ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: 'Body larger than body_limit' })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorBodyDto, description: 'Body is not application/json' })
  async createWebhook(
    @CurrentUser() user: AuthenticatedUser,
    @Body() dto: CreateWebhookDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CreatedWebhookDto> {
    const created = await this.webhooks.create(user, dto);
    res.setHeader('Location', webhookPath(created.id));
    return created;
  }

  /** The caller's webhooks; an admin's: everyone's. */
  @Get()
  @ApiOkResponse({ type: WebhookListDto })
  listWebhooks(@CurrentUser() user: AuthenticatedUser): Promise<WebhookListDto> {
    return this.webhooks.list(user);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse(NOT_FOUND)
  getWebhook(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(user, id);
  }

  /** Unsubscribe: nothing more is sent, pending retries included. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse(NOT_FOUND)
  deleteWebhook(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<void> {
    return this.webhooks.delete(user, id);
  }

  /** The latest delivery attempts, newest first: status code, time, error. */
  @Get(':id/deliveries')
  @ApiOkResponse({ type: WebhookAttemptPageDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto })
  @ApiNotFoundResponse(NOT_FOUND)
  listWebhookDeliveries(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string, @Query() query: WebhookAttemptsQueryDto): Promise<WebhookAttemptPageDto> {
    return this.webhooks.attempts(user, id, query.limit);
  }
}
