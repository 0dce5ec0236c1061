import { describeResourceLimits } from './scenarios/resource-limits.scenarios';

jest.setTimeout(120_000);

describeResourceLimits('embedded');
describeResourceLimits('distributed');
