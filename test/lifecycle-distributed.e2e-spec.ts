import { describeJobLifecycle } from './scenarios/job-lifecycle.scenarios';

jest.setTimeout(120_000);

// The embedded run of these scenarios, and a runner killed with -9, are in test/lifecycle.e2e-spec.ts.
describeJobLifecycle('distributed');
