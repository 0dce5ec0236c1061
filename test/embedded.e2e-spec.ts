import { SQLITE_FILE_NAME } from '@flansible/store';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeJobPipeline } from './scenarios/job-pipeline.scenarios';
import { Deployment } from './support/deployment';
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

describe('the embedded store on disk', () => {
  it('makes a data directory an earlier version left 0755 private, and keeps every database file 0600', async () => {
    const deployment = new Deployment('embedded');
    try {
      const { dataDir } = deployment.fixture;
      chmodSync(dataDir, 0o755);
      await deployment.boot();
      const id = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
      expect(await deployment.api.waitForTask(id)).toMatchObject({ Status: 'SUCCESS' });

      const file = join(dataDir, SQLITE_FILE_NAME);
      const modes = [dataDir, file, `${file}-wal`, `${file}-shm`].map((path) => (statSync(path).mode & 0o777).toString(8));
      expect(modes).toEqual(['700', '600', '600', '600']);
      expect(deployment.gateway.logs).toContain(`Narrowed ${dataDir} from mode 0755 to 0700`);
    } finally {
      await deployment.stop();
    }
  });
});
