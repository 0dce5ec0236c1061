import type { NestExpressApplication } from '@nestjs/platform-express';
import { FlansibleConfig } from '@flansible/config';
import { installHttpMetrics } from '@flansible/metrics';
import { corsPolicy } from './common/cors-policy';
import { buildOpenApiDocument, serveOpenApi } from './openapi';

/**
 * The HTTP setup GatewayModule cannot declare itself (its global filter, pipe and middleware it
 * does): main.ts and the in-process HTTP specs both call this, so they serve the same app.
 * The app must be created with `bodyParser: false`.
 */
export function configureGatewayApp(app: NestExpressApplication, config: FlansibleConfig): void {
  installHttpMetrics(app); // first, so what the body parser refuses is timed too
  // Before the routes and their guard: a preflight carries no credentials and is answered here.
  const cors = corsPolicy(config.corsOrigins);
  if (cors) app.enableCors(cors);
  app.useBodyParser('json', { limit: config.bodyLimitBytes });
  serveOpenApi(app, () => buildOpenApiDocument(app));
}
