import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { checkRbacFileOrExit } from '@flansible/auth';
import { loadConfigOrExit } from '@flansible/config';
import { RunnerDrainService, startJobConsumer } from '@flansible/execution';
import { FlansibleLogger } from '@flansible/logging';
import { GatewayModule } from './gateway.module';
import { configureGatewayApp } from './configure-gateway-app';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  // Users checked before Nest starts: a bad rbac.json, or default passwords on an open port, stop here (exit 78).
  await checkRbacFileOrExit(config);
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bodyParser: false,
    logger: new FlansibleLogger(config.logFormat),
  });
  configureGatewayApp(app, config);
  app.enableShutdownHooks();
  // Embedded: the very runner of the distributed deployment, over the in-process queue.
  if (config.deployment === 'embedded') {
    // Its runner drains as a separate one does: a second SIGTERM or SIGINT stops the jobs at once.
    app.get(RunnerDrainService).stopAtOnceOnSecondSignal();
    await app.init();
    await startJobConsumer(app);
  }
  await app.listen(config.port, config.host);
  new Logger('Gateway').log(`Flansible (${config.deployment}) listening on http://${config.host}:${config.port}`);
}

void bootstrap();
