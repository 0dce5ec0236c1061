import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeJobRepository } from './job.repository.scenarios';
import { describeJobIdempotency } from './job-idempotency.scenarios';
import { describeJobCancel } from './job-cancel.scenarios';

jest.setTimeout(30_000);

describeJobRepository(SQLITE_BACKEND);
describeJobIdempotency(SQLITE_BACKEND);
describeJobCancel(SQLITE_BACKEND);
