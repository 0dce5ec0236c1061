import { POSTGRES_BACKEND } from '../testing/store-backends';
import { describeRunnerRepository } from './runner.repository.scenarios';

jest.setTimeout(30_000);

describeRunnerRepository(POSTGRES_BACKEND);
