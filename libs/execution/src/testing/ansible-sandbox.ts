import { FlansibleConfig, configWith } from '@flansible/config';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Inventory that runs everything on this machine, with the Python that runs Ansible. */
export const LOCAL_INVENTORY = 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n';

/** The sandbox's rbac.json: the specs' jobs are submitted by `tester`, an admin, so the runner's start check lets them run. */
export const SANDBOX_RBAC = { rbac: [{ user: 'tester', password: 'sandbox-only-password', admin: true, inventories: [] }] };

/** A throwaway set of roots (playbooks, inventories, vault, data) and a config pointing at them. */
export interface AnsibleSandbox {
  root: string;
  config: FlansibleConfig;
  /** <inventoryRoot>/local: localhost over the local connection. */
  inventoryPath: string;
  /** <playbookRoot>/site: a directory for playbooks. */
  playbookDir: string;
  /** Writes a playbook into playbookDir and returns its path. */
  writePlaybook(name: string, yaml: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function createAnsibleSandbox(overrides: Partial<FlansibleConfig> = {}): Promise<AnsibleSandbox> {
  const root = await mkdtemp(join(tmpdir(), 'flansible-exec-'));
  const dirs = {
    playbookRoot: join(root, 'playbooks'),
    inventoryRoot: join(root, 'inventories'),
    vaultRoot: join(root, 'vault'),
    dataDir: join(root, 'data'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const playbookDir = join(dirs.playbookRoot, 'site');
  await mkdir(playbookDir);
  const inventoryPath = join(dirs.inventoryRoot, 'local');
  await writeFile(inventoryPath, LOCAL_INVENTORY);
  await writeFile(join(root, 'rbac.json'), JSON.stringify(SANDBOX_RBAC));
  const config = configWith({
    host: '127.0.0.1',
    port: 3000,
    rbacFile: join(root, 'rbac.json'),
    defaultInventory: 'local',
    amqpUrl: null,
    databaseUrl: null,
    taskTimeoutSeconds: 120,
    runnerConcurrency: 2,
    publishTimeoutMs: 3000,
    // Apps closed by specs stop their jobs at once, as before draining; drain specs set their own.
    shutdownGraceSeconds: 0,
    ...dirs,
    ...overrides,
  });
  return {
    root,
    config,
    inventoryPath,
    playbookDir,
    async writePlaybook(name, yaml) {
      const path = join(playbookDir, name);
      await writeFile(path, yaml);
      return path;
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}
