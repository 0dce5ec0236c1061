// Prometheus metrics: one registry per app, typed recording methods, the HTTP timing middleware.
export { FlansibleMetrics } from './flansible-metrics';
export { MetricsModule } from './metrics.module';
export { installHttpMetrics, methodLabel, routeLabel, UNMATCHED_ROUTE } from './http-metrics';
