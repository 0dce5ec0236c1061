import { describeJobPipeline } from './scenarios/job-pipeline.scenarios';

jest.setTimeout(120_000);

describeJobPipeline('embedded');
