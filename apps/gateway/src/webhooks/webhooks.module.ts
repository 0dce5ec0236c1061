import { Module } from '@nestjs/common';
import { RightsModule } from '@flansible/auth';
import { JobsModule } from '../jobs/jobs.module';
import { WebhookDeliverer } from './delivery/webhook-deliverer';
import { WebhookDispatcher } from './delivery/webhook-dispatcher.service';
import { WebhookSender } from './delivery/webhook-sender';
import { WebhookResolver } from './target/webhook-resolver';
import { WebhookTargetPolicy } from './target/webhook-target.policy';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Subscriptions (the API) and their delivery (the dispatcher every gateway runs). */
@Module({
  imports: [RightsModule, JobsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookTargetPolicy, WebhookResolver, WebhookSender, WebhookDeliverer, WebhookDispatcher],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
