import { Global, Module } from '@nestjs/common';
import { FlansibleMetrics } from './flansible-metrics';

/**
 * The app's one FlansibleMetrics (global). Needs FlansibleConfig, and reads the queue counts from
 * JobQueueStats when QueueModule provides it. Modules that record metrics import it too, so they
 * also stand alone (in specs); Nest builds it once.
 */
@Global()
@Module({ providers: [FlansibleMetrics], exports: [FlansibleMetrics] })
export class MetricsModule {}
