import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, FlansibleConfig } from '@flansible/config';
import { ExecutionModule } from '@flansible/execution';
import { MetricsModule } from '@flansible/metrics';
import { QueueModule } from '@flansible/queue';
import { StoreModule } from '@flansible/store';
import { RunnerHealthController } from './runner-health.controller';
import { RunnerMetricsController } from './runner-metrics.controller';

/** The separate runner: a hybrid Nest app, its job handler fed by JobQueueServer, plus HTTP for health and metrics. */
@Module({})
export class RunnerModule {
  static forRoot(config: FlansibleConfig): DynamicModule {
    return {
      module: RunnerModule,
      imports: [ConfigModule.forRoot(config), StoreModule.forRoot(), QueueModule.forRoot({ role: 'runner' }), MetricsModule, ExecutionModule],
      controllers: [RunnerHealthController, ...(config.metrics ? [RunnerMetricsController] : [])],
    };
  }
}
