import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeJobOutbox } from './job-publication.repository.scenarios';

jest.setTimeout(30_000);

describeJobOutbox(SQLITE_BACKEND);
