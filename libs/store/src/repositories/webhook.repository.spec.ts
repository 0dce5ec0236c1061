import { SQLITE_BACKEND } from '../testing/store-backends';
import { describeWebhookStore } from './webhook.repository.scenarios';

jest.setTimeout(30_000);

describeWebhookStore(SQLITE_BACKEND);
