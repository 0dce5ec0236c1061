import { DynamicModule, Module } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { MetricsController, PublicMetricsController } from './metrics.controller';

/** GET /metrics: admins only, or anyone with `metrics_public`; absent with `metrics: false`. */
@Module({})
export class MetricsHttpModule {
  static forRoot(config: FlansibleConfig): DynamicModule {
    const controllers = !config.metrics ? [] : config.metricsPublic ? [PublicMetricsController] : [MetricsController];
    return { module: MetricsHttpModule, controllers };
  }
}
