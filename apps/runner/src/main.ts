import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@flansible/config';
import { RunnerDrainService, startJobConsumer } from '@flansible/execution';
import { installHttpMetrics } from '@flansible/metrics';
import { RunnerModule } from './runner.module';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.deployment !== 'distributed') {
    process.stderr.write(
      'flansible: invalid configuration: FLANSIBLE_AMQP_URL must be set to run a separate runner (the embedded gateway runs jobs itself)\n',
    );
    process.exit(78);
  }
  const app = await NestFactory.create(RunnerModule.forRoot(config));
  installHttpMetrics(app);
  // SIGTERM drains: no new job, running ones finish within FLANSIBLE_SHUTDOWN_GRACE; a second signal stops them.
  app.enableShutdownHooks();
  app.get(RunnerDrainService).stopAtOnceOnSecondSignal();
  await app.init();
  await startJobConsumer(app);
  const logger = new Logger('Runner');
  if (config.runnerPort === 0) {
    logger.log('No HTTP listener (FLANSIBLE_RUNNER_PORT=0)');
  } else {
    await app.listen(config.runnerPort, config.runnerHost);
    logger.log(`Runner HTTP (GET /health/live) on http://${config.runnerHost}:${config.runnerPort}`);
  }
}

void bootstrap();
