import { POSTGRES_BACKEND } from '../testing/store-backends';
import { describeJobEvents } from './job-event.repository.scenarios';

jest.setTimeout(30_000);

describeJobEvents(POSTGRES_BACKEND);
