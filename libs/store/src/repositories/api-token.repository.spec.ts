import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeApiTokenRepository } from './api-token.repository.scenarios';

jest.setTimeout(30_000);

describeApiTokenRepository(SQLITE_BACKEND);
