import { createJobStore } from './create-job-store';
import { STORE_BACKENDS } from './testing/store-backends';

// What readiness asks of the store: a trivial query, answered or refused, never a hang on a closed store.
describe.each(STORE_BACKENDS)('JobStore.ping on $name', (backend) => {
  it('resolves while the database answers and rejects once the store is closed', async () => {
    const location = await backend.fresh();
    const store = createJobStore(location.config);
    try {
      await store.migrate();
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    } finally {
      await store.close();
      await location.dispose();
    }
  });
});
