import { POSTGRES_BACKEND } from './testing/store-backends';
import { describeStoreModule } from './store.module.scenarios';

jest.setTimeout(30_000);

describeStoreModule(POSTGRES_BACKEND);
