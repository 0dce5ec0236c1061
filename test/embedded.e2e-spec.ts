import { describeJobPipeline } from './scenarios/job-pipeline.scenarios';
import { FlansibleProcess, GATEWAY_MAIN } from './support/flansible-process';

jest.setTimeout(120_000);

describeJobPipeline('embedded');

describe('boot-time configuration check', () => {
  it.each([
    ['FLANSIBLE_PORT', 'not-a-port'],
    ['FLANSIBLE_TASK_TIMEOUT', '0'],
    ['FLANSIBLE_AMQP_URL', 'http://example.invalid'],
  ])('stops with one line naming %s', async (key, value) => {
    const gateway = FlansibleProcess.start('gateway-bad-config', GATEWAY_MAIN, { [key]: value });
    expect(await gateway.waitForExit()).toBe(78);
    const lines = gateway.logs.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^flansible: invalid configuration: ${key}\\b`));
  });
});
