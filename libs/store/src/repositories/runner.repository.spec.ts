import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeRunnerRepository } from './runner.repository.scenarios';

jest.setTimeout(30_000);

describeRunnerRepository(SQLITE_BACKEND);
