import { describeRights } from './scenarios/rights.scenarios';

jest.setTimeout(120_000);

describeRights('embedded');
describeRights('distributed');
