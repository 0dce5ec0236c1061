import { loadConfig } from '@flansible/config';
import { ApiClient } from './api-client';
import { Fixture } from './fixture';
import { FlansibleProcess, GATEWAY_MAIN, RUNNER_MAIN, freePort } from './flansible-process';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { SQLITE_FILE_NAME } from '@flansible/store';
import { createTestDatabase, createTestVhost, queryDatabase } from './services';

export type DeploymentKind = 'embedded' | 'distributed';

/**
 * What a process that runs jobs logs once its warm runner has settled: the fork server is ready,
 * or it said why jobs start cold. Scenarios start after it, so their jobs take the path a
 * running service takes (a job that arrives while the fork server still imports Ansible starts
 * cold, at twice the CPU: warm-ansible-pool.integration-spec.ts covers that case).
 */
const WARM_RUNNER_SETTLED = /Warm runner ready|Ansible jobs start cold|Could not start the warm runner's fork server/;

export interface DeploymentOptions {
  runners?: number;
  runnerConcurrency?: number;
  env?: Record<string, string>;
  /** rbac.json entries to use instead of the fixture's default users. */
  rbac?: readonly object[];
}

/** One running Flansible deployment on real processes, with the fixture's workspace. */
export class Deployment {
  readonly fixture = new Fixture();
  gateway!: FlansibleProcess;
  readonly runners: FlansibleProcess[] = [];
  api!: ApiClient;
  databaseUrl: string | null = null;
  vhost: string | null = null;
  private port = 0;
  private readonly cleanups: (() => Promise<void>)[] = [];

  constructor(
    readonly kind: DeploymentKind,
    private readonly options: DeploymentOptions = {},
  ) {}

  static async start(kind: DeploymentKind, options: DeploymentOptions = {}): Promise<Deployment> {
    const deployment = new Deployment(kind, options);
    try {
      await deployment.boot();
    } catch (err) {
      await deployment.stop();
      throw err;
    }
    return deployment;
  }

  get env(): Record<string, string> {
    return {
      ...this.fixture.env(),
      FLANSIBLE_HOST: '127.0.0.1',
      FLANSIBLE_PORT: String(this.port),
      FLANSIBLE_RUNNER_CONCURRENCY: String(this.options.runnerConcurrency ?? 2),
      // Stopping a suite's processes stops their jobs at once, as before draining; drain suites set their own grace.
      FLANSIBLE_SHUTDOWN_GRACE: '0',
      ...(this.databaseUrl ? { FLANSIBLE_DATABASE_URL: this.databaseUrl } : {}),
      ...(this.vhostUrl ? { FLANSIBLE_AMQP_URL: this.vhostUrl } : {}),
      ...this.options.env,
    };
  }

  private vhostUrl: string | null = null;

  /** Starts the processes (and, distributed, creates the database and vhost). */
  async boot(): Promise<void> {
    if (this.options.rbac) this.fixture.writeRbac(this.options.rbac);
    this.port = await freePort();
    this.api = new ApiClient(`http://127.0.0.1:${this.port}`);
    if (this.kind === 'distributed') {
      const db = await createTestDatabase();
      this.cleanups.push(db.drop);
      this.databaseUrl = db.url;
      const vhost = await createTestVhost();
      this.cleanups.push(vhost.drop);
      this.vhost = vhost.name;
      this.vhostUrl = vhost.url;
    }
    await this.startGateway();
    for (let i = 0; i < (this.kind === 'distributed' ? (this.options.runners ?? 1) : 0); i++) await this.startRunner();
  }

  async startGateway(extraEnv: Record<string, string> = {}): Promise<FlansibleProcess> {
    const env = { ...this.env, ...extraEnv };
    this.gateway = FlansibleProcess.start('gateway', GATEWAY_MAIN, env);
    await this.gateway.waitForLog(/listening on http/);
    if (this.kind === 'embedded') await this.warmRunnerSettled(this.gateway, env);
    return this.gateway;
  }

  /** Each runner's own HTTP listener (liveness), by index in `runners`. */
  readonly runnerUrls: string[] = [];

  async startRunner(extraEnv: Record<string, string> = {}): Promise<FlansibleProcess> {
    const port = await freePort();
    const env = { ...this.env, FLANSIBLE_RUNNER_PORT: String(port), ...extraEnv };
    const runner = FlansibleProcess.start(`runner-${this.runners.length + 1}`, RUNNER_MAIN, env);
    this.runners.push(runner);
    this.runnerUrls.push(`http://127.0.0.1:${port}`);
    await runner.waitForLog(/consuming jobs/);
    await this.warmRunnerSettled(runner, env);
    return runner;
  }

  /** warm_runner as the process read it (the product's own parser): off, there is nothing to wait for. */
  private async warmRunnerSettled(runsJobs: FlansibleProcess, env: Record<string, string>): Promise<void> {
    if (loadConfig(env).warmRunner) await runsJobs.waitForLog(WARM_RUNNER_SETTLED, 60_000);
  }

  /** How many jobs the store holds: what a refused request must leave unchanged. */
  async countJobs(): Promise<number> {
    if (this.databaseUrl) {
      const [row] = await queryDatabase<{ n: string }>(this.databaseUrl, 'SELECT count(*) AS n FROM jobs');
      return Number(row.n);
    }
    const db = new Database(join(this.fixture.dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /**
   * Runs SQL on the deployment's store (PostgreSQL, or the embedded SQLite file from another
   * connection), `$1`-style parameters in both; returns the rows of a query. Several statements at
   * once only without parameters.
   */
  async storeSql<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.databaseUrl) return queryDatabase<T>(this.databaseUrl, sql, params);
    const db = new Database(join(this.fixture.dataDir, SQLITE_FILE_NAME), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      if (params.length === 0 && !/^\s*select/i.test(sql)) {
        db.exec(sql);
        return [];
      }
      const statement = db.prepare(sql.replace(/\$\d+/g, '?'));
      return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
    } finally {
      db.close();
    }
  }

  /** Makes a job look `days` older, as if it had been created then (for retention tests). */
  async ageJob(id: string, days: number): Promise<void> {
    const sql = 'UPDATE jobs SET created_at = created_at - $1 WHERE id = $2';
    const params = [days * 24 * 3600 * 1000, id];
    if (this.databaseUrl) {
      await queryDatabase(this.databaseUrl, sql, params);
      return;
    }
    const db = new Database(join(this.fixture.dataDir, SQLITE_FILE_NAME), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(sql.replace(/\$\d/g, '?')).run(...params);
    } finally {
      db.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.gateway, ...this.runners].filter(Boolean).map((p) => p.stop()));
    for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined);
    this.fixture.cleanup();
  }
}
