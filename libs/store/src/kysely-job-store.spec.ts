import { SQLITE_BACKEND } from './testing/store-backends';
import { describeKyselyJobStore } from './kysely-job-store.scenarios';

jest.setTimeout(30_000);

describeKyselyJobStore(SQLITE_BACKEND);
