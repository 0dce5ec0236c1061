import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server tests use; any database on it will do, the helper connects to `postgres` to create others. */
export const TEST_POSTGRES_URL = process.env.FLANSIBLE_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestPostgresDatabase {
  /** URL of the new, empty database: pass it as databaseUrl. */
  url: string;
  name: string;
  /** Drops the database: waits briefly for closing connections, then ends any still open. */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onMaintenanceDatabase<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * pg's Pool.end() resolves before its sockets have closed, so a store closed just before still has
 * backends for a moment. Give them that moment: forcing them off would make the pool log errors.
 */
async function waitForConnectionsToEnd(client: Client, name: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A throwaway PostgreSQL database (`flansible_test_<random>`), so test files can run at the same
 * time against one server without seeing each other's rows or migrations. Drop it in afterAll.
 */
export async function createTestPostgresDatabase(serverUrl: string = TEST_POSTGRES_URL): Promise<TestPostgresDatabase> {
  // Random hex only, so the name is safe to put in DDL (which takes no bind parameters).
  const name = `flansible_test_${randomBytes(6).toString('hex')}`;
  await onMaintenanceDatabase(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () =>
      onMaintenanceDatabase(serverUrl, async (client) => {
        await waitForConnectionsToEnd(client, name);
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}
