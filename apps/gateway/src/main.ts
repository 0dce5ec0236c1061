import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit } from '@flansible/config';
import { GatewayModule } from './gateway.module';
import { buildOpenApiDocument, serveOpenApi } from './openapi';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), { bodyParser: false });
  app.useBodyParser('json', { limit: '1mb' });
  app.enableShutdownHooks();
  serveOpenApi(app, buildOpenApiDocument(app));
  await app.listen(config.port, config.host);
  new Logger('Gateway').log(`Flansible (${config.deployment}) listening on http://${config.host}:${config.port}`);
}

void bootstrap();
