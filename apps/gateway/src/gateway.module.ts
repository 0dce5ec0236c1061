import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from '@flansible/auth';
import { ConfigModule, FlansibleConfig } from '@flansible/config';
import { ExecutionModule } from '@flansible/execution';
import { MetricsModule } from '@flansible/metrics';
import { QueueModule } from '@flansible/queue';
import { StoreModule } from '@flansible/store';
import { AllErrorsFilter } from './common/all-errors.filter';
import { RequestIdMiddleware } from './common/request-id.middleware';
import { RequireJsonMiddleware } from './common/require-json.middleware';
import { StrictValidationPipe } from './common/validation.pipe';
import { EmbeddedCrashRecovery } from './embedded/embedded-crash-recovery';
import { EmbeddedRequeueService } from './embedded/embedded-requeue.service';
import { GatewayDrainService } from './health/gateway-drain.service';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { MetricsHttpModule } from './metrics/metrics-http.module';
import { OutboxModule } from './outbox/outbox.module';
import { PlaybooksModule } from './playbooks/playbooks.module';
import { RetentionModule } from './retention/retention.module';
import { SecurityAuditModule } from './security/security-audit.module';
import { ApiTokensModule } from './tokens/api-tokens.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class GatewayModule implements NestModule {
  /** In the embedded deployment the gateway also hosts the runner, over the in-process queue. */
  static forRoot(config: FlansibleConfig): DynamicModule {
    const embedded = config.deployment === 'embedded';
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot(),
        QueueModule.forRoot({ role: embedded ? 'embedded' : 'gateway' }),
        // Basic auth or an API token on every route of this app (its global guard), @Public() routes excepted.
        AuthModule,
        ApiTokensModule,
        HealthModule,
        MetricsModule,
        MetricsHttpModule.forRoot(config),
        JobsModule,
        OutboxModule,
        PlaybooksModule,
        RetentionModule,
        SecurityAuditModule,
        WebhooksModule,
        ...(embedded ? [ExecutionModule.withStartupRecovery(EmbeddedCrashRecovery)] : []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllErrorsFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        ...(embedded ? [EmbeddedRequeueService] : []),
        // Here, in the root module: its shutdown hook runs before those of the imported modules.
        GatewayDrainService,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
    consumer.apply(RequireJsonMiddleware).forRoutes({ path: '*path', method: RequestMethod.POST });
  }
}
