import { ConfigModule, FlansibleConfig, configWith } from '@flansible/config';
import { JobKind, JobStatus } from '@flansible/contracts';
import { Test, TestingModule } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_FILE_NAME } from './create-job-store';
import { GatewayJobStore } from './gateway-job-store';
import { RunnerJobStore } from './runner-job-store';
import { StoreModule } from './store.module';
import { StoreBackend, StoreLocation, StoreLocationConfig } from './testing/store-backends';

export function configFor(location: StoreLocationConfig): FlansibleConfig {
  return configWith({
    host: '127.0.0.1',
    port: 3000,
    rbacFile: '/nonexistent/rbac.json',
    playbookRoot: '/nonexistent/playbooks',
    inventoryRoot: '/nonexistent/inventories',
    defaultInventory: 'localhost',
    vaultRoot: '/nonexistent/vault',
    amqpUrl: null,
    taskTimeoutSeconds: 60,
    runnerConcurrency: 1,
    publishTimeoutMs: 1000,
    ...location,
  });
}

/** StoreModule: both faces from one migrated store, closed at shutdown. */
export function describeStoreModule(backend: StoreBackend): void {
  describe(`StoreModule on ${backend.name}`, () => {
    let location: StoreLocation;
    let moduleRef: TestingModule | undefined;

    beforeEach(async () => {
      location = await backend.fresh();
    });

    afterEach(async () => {
      await moduleRef?.close();
      moduleRef = undefined;
      await location.dispose();
    });

    const start = () =>
      Test.createTestingModule({ imports: [ConfigModule.forRoot(configFor(location.config)), StoreModule.forRoot()] }).compile();

    it('provides a migrated JobStore and closes it on shutdown', async () => {
      moduleRef = await start();
      const store = moduleRef.get(GatewayJobStore);
      // Both faces are the one store, opened once.
      expect(moduleRef.get(RunnerJobStore)).toBe(store);

      // Usable at once: the schema was migrated before the provider was handed out.
      await store.createJob({
        id: 'job-1',
        submittedBy: 'alice',
        createdAt: new Date(),
        spec: { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: true },
      });
      expect((await store.findJob('job-1'))?.status).toBe(JobStatus.Queued);
      if (!location.config.databaseUrl) {
        expect(existsSync(join(location.config.dataDir, SQLITE_FILE_NAME))).toBe(true);
      }

      await moduleRef.close();
      moduleRef = undefined;
      await expect(store.findJob('job-1')).rejects.toMatchObject({ message: expect.stringMatching(/destroyed/i) });
    });

    it('keeps the data across a restart', async () => {
      moduleRef = await start();
      await moduleRef.get(GatewayJobStore).createJob({
        id: 'job-2',
        submittedBy: 'bob',
        createdAt: new Date(),
        spec: { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false },
      });
      await moduleRef.close();

      moduleRef = await start();
      expect((await moduleRef.get(GatewayJobStore).findJob('job-2'))?.submittedBy).toBe('bob');
    });
  });
}
