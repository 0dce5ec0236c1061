import { Logger } from '@nestjs/common';
import { JobPolicyService, RbacService } from '@flansible/auth';
import { configWith } from '@flansible/config';
import { WorkspaceService } from '@flansible/workspace';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalHostExposureAudit } from './local-host-exposure.audit';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '../../../..');
const EXPOSED = /may use inventories with hosts that run on the Flansible host itself/;

/** The audit's warnings for `rbacFile` over the repository's own inventories (real ansible-inventory). */
async function exposureWarnings(rbacFile: string, dataDir: string): Promise<string[]> {
  const config = configWith({
    rbacFile,
    inventoryRoot: join(ROOT, 'inventories'),
    playbookRoot: join(ROOT, 'playbooks'),
    vaultRoot: join(ROOT, 'vault'),
    dataDir,
  });
  const rbac = new RbacService(config, { watch: false });
  await rbac.onModuleInit();
  try {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    await new LocalHostExposureAudit(config, rbac, new JobPolicyService(config, new WorkspaceService(config))).audit();
    return warn.mock.calls.map(([message]) => String(message)).filter((message) => EXPOSED.test(message));
  } finally {
    rbac.onModuleDestroy();
  }
}

describe('the shipped rbac.json and localhost inventory', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flansible-shipped-'));
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('give no non-admin user an inventory with a host that runs on the Flansible host', async () => {
    expect(await exposureWarnings(join(ROOT, 'rbac.json'), join(dir, 'data'))).toEqual([]);
  });

  it('would be warned about had the sample given devadmin the localhost inventory', async () => {
    const rbacFile = join(dir, 'rbac.json');
    writeFileSync(rbacFile, JSON.stringify({ rbac: [{ user: 'devadmin', password: 'devpassword', inventories: ['localhost'] }] }));
    expect(await exposureWarnings(rbacFile, join(dir, 'data'))).toEqual([
      expect.stringMatching(/^User devadmin may use .*\/inventories\/localhost \(localhost\)/),
    ]);
  });
});
