import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

// For specs: a RabbitMQ vhost of their own on the local broker (guest/guest on 127.0.0.1:5672), made
// with rabbitmqctl (the management plugin is not enabled here), so suites can run side by side.

const execFileAsync = promisify(execFile);

export const rabbitmqctl = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
  execFileAsync('rabbitmqctl', ['-q', ...args]);

export interface ThrowawayVhost {
  readonly name: string;
  /** amqp URL of the vhost; another port reaches it through a proxy or a fake broker. */
  url(port?: number): string;
  /** Deletes the vhost and everything in it. */
  remove(): Promise<void>;
}

export async function createThrowawayVhost(label: string): Promise<ThrowawayVhost> {
  const name = `flansible-${label}-${randomUUID()}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: (port = 5672) => `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(name)}`,
    remove: async () => {
      await rabbitmqctl('delete_vhost', name);
    },
  };
}
