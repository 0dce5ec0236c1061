import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeHistoryPaging } from './job-history-paging.scenarios';
import { describeJobHistory } from './job-history.repository.scenarios';

jest.setTimeout(120_000);

describeJobHistory(SQLITE_BACKEND);
describeHistoryPaging(SQLITE_BACKEND);
