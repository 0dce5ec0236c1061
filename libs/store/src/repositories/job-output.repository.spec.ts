import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeJobOutput } from './job-output.repository.scenarios';
import { describeJobOutputLines } from './job-output-lines.scenarios';

jest.setTimeout(120_000);

describeJobOutput(SQLITE_BACKEND);
describeJobOutputLines(SQLITE_BACKEND);
