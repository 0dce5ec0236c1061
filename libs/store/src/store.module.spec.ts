import { ConfigModule, FlansibleConfig, configWith } from '@flansible/config';
import { JobKind, JobStatus } from '@flansible/contracts';
import { Test, TestingModule } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_FILE_NAME } from './create-job-store';
import { JobStore } from './job-store';
import { StoreModule } from './store.module';
import { STORE_BACKENDS, StoreLocation, StoreLocationConfig } from './testing/store-backends';

jest.setTimeout(30_000);

function configFor(location: StoreLocationConfig): FlansibleConfig {
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

describe.each(STORE_BACKENDS)('StoreModule on $name', (backend) => {
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
    const store = moduleRef.get(JobStore);

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
    await moduleRef.get(JobStore).createJob({
      id: 'job-2',
      submittedBy: 'bob',
      createdAt: new Date(),
      spec: { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false },
    });
    await moduleRef.close();

    moduleRef = await start();
    expect((await moduleRef.get(JobStore).findJob('job-2'))?.submittedBy).toBe('bob');
  });
});

describe('StoreModule with an unreachable PostgreSQL', () => {
  it('fails to start instead of handing out a store without a schema', async () => {
    const config = configFor({ dataDir: '/nonexistent', databaseUrl: 'postgresql://postgres@127.0.0.1:1/none' });
    await expect(
      Test.createTestingModule({ imports: [ConfigModule.forRoot(config), StoreModule.forRoot()] }).compile(),
    ).rejects.toMatchObject({ message: expect.stringMatching(/ECONNREFUSED|connect/i) });
  });
});
