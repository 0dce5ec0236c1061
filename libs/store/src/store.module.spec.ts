import { ConfigModule } from '@flansible/config';
import { Test } from '@nestjs/testing';
import { StoreModule } from './store.module';
import { SQLITE_BACKEND } from './testing/store-backends';
import { configFor, describeStoreModule } from './store.module.scenarios';

jest.setTimeout(30_000);

describeStoreModule(SQLITE_BACKEND);

describe('StoreModule with an unreachable PostgreSQL', () => {
  it('fails to start instead of handing out a store without a schema', async () => {
    const config = configFor({ dataDir: '/nonexistent', databaseUrl: 'postgresql://postgres@127.0.0.1:1/none' });
    await expect(
      Test.createTestingModule({ imports: [ConfigModule.forRoot(config), StoreModule.forRoot()] }).compile(),
    ).rejects.toMatchObject({ message: expect.stringMatching(/ECONNREFUSED|connect/i) });
  });
});
