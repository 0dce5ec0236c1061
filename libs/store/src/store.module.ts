import { FlansibleConfig } from '@flansible/config';
import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ApiTokenStore } from './api-token-store';
import { createJobStore } from './create-job-store';
import { GatewayJobStore } from './gateway-job-store';
import { JobStore } from './job-store';
import { RunnerJobStore } from './runner-job-store';
import { WebhookStore } from './webhook-store';

/** The one opened store both faces are; internal to this module. */
const OPENED_JOB_STORE = Symbol('OPENED_JOB_STORE');

/** Opens the configured store and brings its schema up to date before anything can use it. */
async function openMigratedJobStore(config: FlansibleConfig): Promise<JobStore> {
  const store = createJobStore(config);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * Closes the store on the last shutdown step, so services can still write results in their
 * onModuleDestroy / beforeApplicationShutdown hooks.
 */
@Injectable()
class JobStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(OPENED_JOB_STORE) private readonly store: JobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * Provides GatewayJobStore, RunnerJobStore, ApiTokenStore and WebhookStore everywhere, all the same migrated store: SQLite
 * under dataDir when no databaseUrl is configured, PostgreSQL otherwise. Needs FlansibleConfig in
 * scope (ConfigModule.forRoot, which is global).
 */
@Global()
@Module({})
export class StoreModule {
  static forRoot(): DynamicModule {
    return {
      module: StoreModule,
      providers: [
        { provide: OPENED_JOB_STORE, inject: [FlansibleConfig], useFactory: openMigratedJobStore },
        { provide: GatewayJobStore, useExisting: OPENED_JOB_STORE },
        { provide: RunnerJobStore, useExisting: OPENED_JOB_STORE },
        { provide: ApiTokenStore, useExisting: OPENED_JOB_STORE },
        { provide: WebhookStore, useExisting: OPENED_JOB_STORE },
        JobStoreCloser,
      ],
      exports: [GatewayJobStore, RunnerJobStore, ApiTokenStore, WebhookStore],
    };
  }
}
