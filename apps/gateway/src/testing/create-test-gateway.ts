import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '@flansible/config';
import { SQLITE_FILE_NAME } from '@flansible/store';
import { configureGatewayApp } from '../configure-gateway-app';
import { GatewayModule } from '../gateway.module';
import { LocalHostExposureAudit } from '../security/local-host-exposure.audit';

export interface TestGateway {
  app: NestExpressApplication;
  /** supertest over the app's server: no port, no process. */
  http: ReturnType<typeof request>;
  /** How many jobs the SQLite store holds: what a refused request must leave unchanged. */
  countJobs(): number;
  /** Runs SQL on the SQLite store from another connection (`?` parameters); the rows of a query. */
  storeSql<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  /** The rbac.json the gateway reads (RbacService.reload() applies an edit at once). */
  rbacFile: string;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** FLANSIBLE_* settings over those of the generated workspace (an e2e fixture's env(), say). */
  env?: Record<string, string>;
  /** Providers to replace, each by a value (a resolver that answers what the spec needs, say). */
  overrides?: { provide: unknown; useValue: unknown }[];
}

const LOCAL_INVENTORY = '[local]\nlocalhost ansible_connection=local\n';
const OK_PLAYBOOK = '- hosts: all\n  gather_facts: false\n  tasks: []\n';

/**
 * The users of the generated workspace: an admin, a user of `dev` alone who may use git, one of
 * `prod` alone without git (the default).
 */
export const TEST_USERS = {
  admin: { user: 'admin', password: 'admin', inventories: [] },
  devadmin: { user: 'devadmin', password: 'devpassword', inventories: ['dev'], git: true },
  produser: { user: 'produser', password: 'prodpassword', inventories: ['prod'] },
} as const;

/** Playbook and inventory roots, a data directory and rbac.json in a temporary directory. */
function writeWorkspace(root: string): Record<string, string> {
  const dirs = { playbooks: join(root, 'playbooks', 'app'), inventories: join(root, 'inventories'), vault: join(root, 'vault'), data: join(root, 'data') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dirs.playbooks, 'ok.yml'), OK_PLAYBOOK);
  for (const name of ['localhost', 'dev', 'prod']) writeFileSync(join(dirs.inventories, name), LOCAL_INVENTORY);
  writeFileSync(join(root, 'rbac.json'), JSON.stringify({ rbac: Object.values(TEST_USERS) }));
  return {
    FLANSIBLE_PLAYBOOK_ROOT: join(root, 'playbooks'),
    FLANSIBLE_INVENTORY_ROOT: dirs.inventories,
    FLANSIBLE_VAULT_ROOT: dirs.vault,
    FLANSIBLE_DATA_DIR: dirs.data,
    FLANSIBLE_RBAC_FILE: join(root, 'rbac.json'),
    FLANSIBLE_DEFAULT_INVENTORY: 'localhost',
  };
}

/**
 * The gateway of the embedded deployment in this process, as main.ts configures it: a temporary
 * SQLite store and the in-process queue, but no job consumer (nothing runs Ansible; submitted jobs
 * stay queued), no warm runner and no start-up inventory audit (it runs ansible-inventory).
 */
export async function createTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const root = mkdtempSync(join(tmpdir(), 'flansible-http-'));
  const env = { ...writeWorkspace(root), ...options.env };
  // Nothing runs Ansible here, so no warm runner either (it would start a Python per gateway).
  const config = loadConfig({
    FLANSIBLE_WARM_RUNNER: 'false',
    ...env,
    FLANSIBLE_CONFIG_FILE: join(root, 'no-config-file.yml'),
    FLANSIBLE_SHUTDOWN_GRACE: '0',
  });
  let builder = Test.createTestingModule({ imports: [GatewayModule.forRoot(config)] })
    .overrideProvider(LocalHostExposureAudit)
    .useValue({});
  for (const { provide, useValue } of options.overrides ?? []) builder = builder.overrideProvider(provide).useValue(useValue);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
  configureGatewayApp(app, config);
  await app.init();
  function storeSql<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(join(config.dataDir, SQLITE_FILE_NAME), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      const statement = db.prepare(sql);
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
    } finally {
      db.close();
    }
  }
  return {
    app,
    http: request(app.getHttpServer()),
    countJobs() {
      return storeSql<{ n: number }>('SELECT count(*) AS n FROM jobs')[0].n;
    },
    storeSql,
    rbacFile: config.rbacFile,
    async close() {
      await app.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
