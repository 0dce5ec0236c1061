import { describeWebhooks } from './scenarios/webhooks.scenarios';

jest.setTimeout(120_000);

describeWebhooks('embedded');
describeWebhooks('distributed');
