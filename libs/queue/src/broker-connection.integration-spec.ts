import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Channel } from 'amqplib';
import { eventually } from '@flansible/testing';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { ManagedChannel } from './managed-channel';
import { QueueUnavailableError } from './job-queue';
import { ThrowawayVhost, createThrowawayVhost } from './testing/throwaway-vhost';

// Against the real broker on 127.0.0.1:5672, in a throwaway vhost; "down" is a port nobody listens on.
jest.setTimeout(20_000);

const UNREACHABLE = 'amqp://guest:secret-password@127.0.0.1:1/';

let vhost: ThrowawayVhost;
const openConnections: BrokerConnection[] = [];
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  vhost = await createThrowawayVhost('broker-connection-spec');
});

afterEach(async () => {
  await Promise.all(openConnections.splice(0).map((connection) => connection.close()));
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(async () => {
  await vhost?.remove();
});

/** A silent logger whose lines the test can read. */
function recordingLogger(): { logger: Logger; warnings: string[] } {
  const logger = new Logger('BrokerConnectionSpec');
  const warnings: string[] = [];
  jest.spyOn(logger, 'log').mockImplementation(() => undefined);
  jest.spyOn(logger, 'debug').mockImplementation(() => undefined);
  jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  jest.spyOn(logger, 'warn').mockImplementation((message: unknown) => {
    warnings.push(String(message));
  });
  return { logger, warnings };
}

function open(
  overrides: Partial<BrokerConnectionOptions> = {},
  owner: { onConnect?: () => void } = {},
): { connection: BrokerConnection; warnings: string[] } {
  const { logger, warnings } = recordingLogger();
  const connection = new BrokerConnection(
    {
      url: vhost.url(),
      connectionName: `flansible-broker-connection-spec@${process.pid}`,
      reconnectSeconds: 0.05,
      channelRecoverySeconds: 0.1,
      ...overrides,
    },
    { logger, closedReason: 'the test connection is closed', ...owner },
  );
  openConnections.push(connection);
  return { connection, warnings };
}

/** A channel whose setup never finishes while the test runs (released after it, so close() is clean). */
function neverReady(connection: BrokerConnection): ManagedChannel {
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  cleanups.push(release);
  return connection.channel('never ready', { setup: () => held });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BrokerConnection', () => {
  it('with the broker unreachable: one reason, logged once, failing waits at once, never the password', async () => {
    const { connection, warnings } = open({ url: UNREACHABLE });
    expect(connection.brokerLabel).toBe('amqp://127.0.0.1:1/');

    await eventually(() => connection.unavailableReason !== null, 'the first failed attempt');
    expect(connection.unavailableReason).toMatch(/^cannot connect to RabbitMQ at amqp:\/\/127\.0\.0\.1:1\/: /);
    const channelWait = neverReady(connection).ready(Date.now() + 60_000, 60_000);
    await expect(channelWait).rejects.toThrow(QueueUnavailableError);
    await expect(channelWait).rejects.toThrow(/cannot connect/);
    // Returns (rather than waiting out the deadline) since the broker is known to be down.
    await connection.waitUntil(() => false, Date.now() + 60_000);

    // Retries every 50 ms meanwhile: the same failure is logged once, not once per attempt.
    await sleep(300);
    expect(warnings.filter((line) => line.startsWith('Cannot connect'))).toHaveLength(1);
    expect(warnings.join('\n')).not.toContain('secret-password');
  });

  it('hands out the channel a setup function made ready, waking the waiter when it appears', async () => {
    let connects = 0;
    const { connection } = open({}, { onConnect: () => connects++ });
    const setUp: Channel[] = [];
    const managed = connection.channel('spec', {
      setup: async (channel) => {
        await channel.checkExchange('amq.direct');
        setUp.push(channel);
      },
    });
    expect(managed.current).toBeUndefined();

    const channel = await managed.ready(Date.now() + 10_000, 10_000);
    expect(channel).toBe(setUp[0]);
    expect(managed.current).toBe(channel);
    expect(connects).toBe(1);
    expect(connection.unavailableReason).toBeNull();
    expect(connection.blockedReason).toBeNull();
  });

  it('fails a wait for a channel that never comes, naming the budget, and one with a known fault at once', async () => {
    const { connection } = open();
    await expect(neverReady(connection).ready(Date.now() + 200, 200)).rejects.toThrow(
      `no RabbitMQ channel at ${connection.brokerLabel} within 200 ms`,
    );
    const failing = connection.channel('failing', {
      setup: () => Promise.reject(new Error('the setup failed')),
    });
    await expect(failing.ready(Date.now() + 60_000, 60_000)).rejects.toThrow(
      'could not set up the RabbitMQ failing channel: the setup failed',
    );
    expect(failing.fault).toBe('could not set up the RabbitMQ failing channel: the setup failed');
  });

  it('reconnects to reopen a channel the broker closed under a live connection', async () => {
    let connects = 0;
    const { connection, warnings } = open({}, { onConnect: () => connects++ });
    const setUp: Channel[] = [];
    const managed = connection.channel('spec', {
      setup: async (channel) => {
        setUp.push(channel);
      },
    });
    const first = await eventually(() => managed.current, 'the first channel');

    // A passive declare of a missing queue: the broker closes the channel (404), not the connection.
    await first.checkQueue(`missing-${randomUUID()}`).catch(() => undefined);

    await eventually(() => setUp.length === 2 && managed.current === setUp[1], 'a fresh channel after the forced reconnect');
    expect(connection.hasClosed(first)).toBe(true);
    expect(warnings.join()).toMatch(/NOT_FOUND/);
    expect(managed.fault).toBeNull(); // cleared by the reconnect
    expect(connects).toBe(2);
  });

  it('closes once: fails waiters and later calls at once, lets the owner finish first, never hangs', async () => {
    const { connection } = open();
    const waiting = neverReady(connection).ready(Date.now() + 60_000, 60_000);
    const order: string[] = [];

    const closing = connection.close(() => {
      order.push(connection.isClosed ? 'finish work after closed' : 'finish work before closed');
    });
    expect(connection.close()).toBe(closing);
    await expect(waiting).rejects.toThrow('the test connection is closed');
    await closing;
    expect(order).toEqual(['finish work after closed']);
    expect(() => connection.throwIfClosed()).toThrow(QueueUnavailableError);

    const { connection: unreachable } = open({ url: UNREACHABLE });
    await unreachable.close();
  });
});
