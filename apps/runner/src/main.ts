import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@flansible/config';
import { RunnerModule } from './runner.module';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.deployment !== 'distributed') {
    process.stderr.write(
      'flansible: invalid configuration: FLANSIBLE_AMQP_URL must be set to run a separate runner (the embedded gateway runs jobs itself)\n',
    );
    process.exit(78);
  }
  const app = await NestFactory.createApplicationContext(RunnerModule.forRoot(config));
  app.enableShutdownHooks();
  new Logger('Runner').log(`Flansible runner consuming jobs with concurrency ${config.runnerConcurrency}`);
}

void bootstrap();
