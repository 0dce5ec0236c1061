import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@flansible/config';
import { RunnerDrainService, startJobConsumer } from '@flansible/execution';
import { FlansibleLogger } from '@flansible/logging';
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
  const app = await NestFactory.create(RunnerModule.forRoot(config), { logger: new FlansibleLogger(config.logFormat) });
  installHttpMetrics(app);
  // SIGTERM drains: no new job, running ones finish within FLANSIBLE_SHUTDOWN_GRACE; a second signal stops them.
  app.enableShutdownHooks();
  app.get(RunnerDrainService).stopAtOnceOnSecondSignal();
  await app.init();
  const logger = new Logger('Runner');
  // HTTP first: a port already taken (another runner on this host) stops the start before any job is taken.
  if (config.runnerPort === 0) {
    logger.log('No HTTP listener (FLANSIBLE_RUNNER_PORT=0)');
  } else {
    try {
      await app.listen(config.runnerPort, config.runnerHost);
    } catch (err) {
      process.stderr.write(
        `flansible: cannot listen on FLANSIBLE_RUNNER_HOST=${config.runnerHost} FLANSIBLE_RUNNER_PORT=${config.runnerPort} ` +
          `(${(err as Error).message}): give each runner on this host its own port, or 0 for none\n`,
      );
      await app.close();
      process.exit(78);
    }
    logger.log(`Runner HTTP (GET /health/live) on http://${config.runnerHost}:${config.runnerPort}`);
  }
  await startJobConsumer(app);
}

void bootstrap();
