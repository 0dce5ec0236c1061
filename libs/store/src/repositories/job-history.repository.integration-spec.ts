import { POSTGRES_BACKEND } from '../testing/store-backends';
import { describeHistoryPaging } from './job-history-paging.scenarios';
import { describeJobHistory } from './job-history.repository.scenarios';

jest.setTimeout(120_000);

describeJobHistory(POSTGRES_BACKEND);
describeHistoryPaging(POSTGRES_BACKEND);
