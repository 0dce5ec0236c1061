import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

// For specs: a RabbitMQ vhost of their own on the local broker (guest/guest on 127.0.0.1:5672), so
// suites can run side by side. Vhosts are made and deleted through the management plugin's HTTP
// API (.ci/run enables it): each rabbitmqctl call starts an Erlang VM, about 0.6 s of CPU, and a
// suite run makes a few hundred. Listing what a vhost holds still uses rabbitmqctl (few calls).

const execFileAsync = promisify(execFile);

export const rabbitmqctl = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
  execFileAsync('rabbitmqctl', ['-q', ...args]);

/** The management API of the test broker; FLANSIBLE_TEST_RABBITMQ_API names another one. */
const MANAGEMENT_API = new URL(process.env.FLANSIBLE_TEST_RABBITMQ_API ?? 'http://guest:guest@127.0.0.1:15672/api/');

async function management(method: 'PUT' | 'DELETE', path: string, body?: object): Promise<void> {
  const url = new URL(path, MANAGEMENT_API);
  const credentials = Buffer.from(`${decodeURIComponent(MANAGEMENT_API.username)}:${decodeURIComponent(MANAGEMENT_API.password)}`).toString('base64');
  url.username = url.password = '';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new Error(`RabbitMQ's management API at ${url.origin} is unreachable (rabbitmq-plugins enable rabbitmq_management): ${(err as Error).message}`);
  }
  if (!res.ok) throw new Error(`RabbitMQ management API: ${method} ${url.pathname} answered ${res.status} ${await res.text()}`);
}

export interface ThrowawayVhost {
  readonly name: string;
  /** amqp URL of the vhost; another port reaches it through a proxy or a fake broker. */
  url(port?: number): string;
  /** Deletes the vhost and everything in it. */
  remove(): Promise<void>;
}

export async function createThrowawayVhost(label: string): Promise<ThrowawayVhost> {
  const name = `flansible-${label}-${randomUUID()}`;
  const path = `vhosts/${encodeURIComponent(name)}`;
  await management('PUT', path, {});
  await management('PUT', `permissions/${encodeURIComponent(name)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  return {
    name,
    url: (port = 5672) => `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(name)}`,
    remove: () => management('DELETE', path),
  };
}
