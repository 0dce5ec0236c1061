import { execFile } from 'node:child_process';
import { AddressInfo, Socket, createServer } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';

export { createTestPostgresDatabase as createTestDatabase } from '@flansible/store/testing';
import { createThrowawayVhost } from '../../libs/queue/src/testing/throwaway-vhost';

const run = promisify(execFile);

export const RABBITMQ_URL = process.env.FLANSIBLE_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A RabbitMQ virtual host of its own for one test run, deleted afterwards. */
export async function createTestVhost(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const vhost = await createThrowawayVhost('e2e');
  return { name: vhost.name, url: `${RABBITMQ_URL}/${encodeURIComponent(vhost.name)}`, drop: () => vhost.remove() };
}

/** Runs one query against a test database (to look at what the store holds). */
export async function queryDatabase<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** `rabbitmqctl list_queues` for a vhost, as rows of the requested columns. */
export async function listQueues(vhost: string, columns: string[]): Promise<string[][]> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', '-p', vhost, ...columns]);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}

/**
 * A TCP port that accepts connections and never answers nor forwards a byte: a broker that hangs.
 * What connects there waits until its own timeouts.
 */
export async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
