import { Module } from '@nestjs/common';
import { GatewayReadinessService } from './gateway-readiness.service';
import { HealthController } from './health.controller';

@Module({ controllers: [HealthController], providers: [GatewayReadinessService], exports: [GatewayReadinessService] })
export class HealthModule {}
