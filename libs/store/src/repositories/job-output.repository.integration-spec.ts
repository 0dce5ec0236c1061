import { POSTGRES_BACKEND } from '../testing/store-backends';
import { describeJobOutput } from './job-output.repository.scenarios';
import { describeJobOutputLines } from './job-output-lines.scenarios';

jest.setTimeout(120_000);

describeJobOutput(POSTGRES_BACKEND);
describeJobOutputLines(POSTGRES_BACKEND);
