import { describeRelaunch } from './scenarios/relaunch.scenarios';

jest.setTimeout(120_000);

describeRelaunch('embedded');
describeRelaunch('distributed');
