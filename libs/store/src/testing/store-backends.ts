import { FlansibleConfig } from '@flansible/config';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** The two backends every store scenario runs against (specs only). */
export const STORE_BACKENDS: StoreBackend[] = [
  {
    name: 'SQLite',
    async fresh() {
      const root = await mkdtemp(join(tmpdir(), 'flansible-store-'));
      return {
        // A directory that does not exist yet: the store must create it.
        config: { dataDir: join(root, 'data', 'nested'), databaseUrl: null },
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    async fresh() {
      const database = await createTestPostgresDatabase();
      return {
        config: { dataDir: join(tmpdir(), 'flansible-store-unused'), databaseUrl: database.url },
        dispose: () => database.drop(),
      };
    },
  },
];
