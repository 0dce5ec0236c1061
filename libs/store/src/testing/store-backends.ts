import { FlansibleConfig } from '@flansible/config';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobStore } from '../create-job-store';
import { JobStore } from '../job-store';
import { createTestPostgresDatabase } from './test-postgres-database';

export type StoreLocationConfig = Pick<FlansibleConfig, 'dataDir' | 'databaseUrl'>;

/** A fresh, empty, not yet migrated place for a store, and how to remove it. */
export interface StoreLocation {
  config: StoreLocationConfig;
  dispose(): Promise<void>;
}

export interface StoreBackend {
  name: string;
  fresh(): Promise<StoreLocation>;
}

/**
 * The two backends every store scenario runs against (specs only): SQLite in the unit project
 * (`*.spec.ts`), PostgreSQL in the integration project (`*.integration-spec.ts`).
 */
export const SQLITE_BACKEND: StoreBackend = {
  name: 'SQLite',
  async fresh() {
    const root = await mkdtemp(join(tmpdir(), 'flansible-store-'));
    return {
      // A directory that does not exist yet: the store must create it.
      config: { dataDir: join(root, 'data', 'nested'), databaseUrl: null },
      dispose: () => rm(root, { recursive: true, force: true }),
    };
  },
};

export const POSTGRES_BACKEND: StoreBackend = {
  name: 'PostgreSQL',
  async fresh() {
    const database = await createTestPostgresDatabase();
    return {
      config: { dataDir: join(tmpdir(), 'flansible-store-unused'), databaseUrl: database.url },
      dispose: () => database.drop(),
    };
  },
};

/**
 * Registers beforeAll/afterAll hooks that open two migrated stores on one fresh database (the
 * second has its own connections, like another process) and close them and the database after.
 */
export function withMigratedStores(
  backend: StoreBackend,
  use: (stores: { store: JobStore; other: JobStore; location: StoreLocation }) => void,
): void {
  let location: StoreLocation | undefined;
  const opened: JobStore[] = [];
  beforeAll(async () => {
    location = await backend.fresh();
    for (let i = 0; i < 2; i++) {
      const store = createJobStore(location.config);
      opened.push(store);
      await store.migrate();
    }
    use({ store: opened[0], other: opened[1], location });
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await location?.dispose();
  });
}

/** Both, for an integration spec outside the store that runs its scenarios on each in one file. */
export const STORE_BACKENDS: StoreBackend[] = [SQLITE_BACKEND, POSTGRES_BACKEND];
