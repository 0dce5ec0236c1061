import { FlansibleConfig } from '@flansible/config';
import { DynamicModule, Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { createJobStore } from './create-job-store';
import { JobStore } from './job-store';

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
  constructor(private readonly store: JobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * Provides JobStore everywhere: SQLite under dataDir when no databaseUrl is configured, PostgreSQL
 * otherwise. Needs FlansibleConfig in scope (ConfigModule.forRoot, which is global).
 */
@Global()
@Module({})
export class StoreModule {
  static forRoot(): DynamicModule {
    return {
      module: StoreModule,
      providers: [{ provide: JobStore, inject: [FlansibleConfig], useFactory: openMigratedJobStore }, JobStoreCloser],
      exports: [JobStore],
    };
  }
}
