import { hostname } from 'node:os';
import amqplib from 'amqplib';
import { Logger } from '@nestjs/common';
import { BrokerProxy } from './broker-proxy';
import { ThrowawayVhost, createThrowawayVhost, rabbitmqctl } from './throwaway-vhost';

// The shared setup of the notice-bus and cancel-bus specs: the real broker on 127.0.0.1:5672, a
// throwaway vhost per spec file, buses closed after each test. A "gateway" and a "runner" are two
// bus instances with connections of their own, as two processes would have.

export interface Closable {
  close(): Promise<void>;
}

export interface QueueInfo {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
}

export interface SignalSpecBroker {
  vhost(): ThrowawayVhost;
  /** Closed after the test. */
  track<T extends Closable>(bus: T): T;
  /** Closes every bus of this test now. */
  closeAll(): Promise<void>;
  /** A TCP proxy to the broker, started; stopping it is a broker outage for whoever connects through it. */
  proxy(): Promise<BrokerProxy>;
  /** A queue of the admin connection bound to `exchange`: what the adapters publish there, for `get`. Removed after the test. */
  tap(exchange: string, type: 'topic' | 'fanout', routingKey: string): Promise<{ channel: amqplib.Channel; queue: string }>;
  listQueues(): Promise<QueueInfo[]>;
  /** Exchanges of the vhost as rabbitmqctl lists them. */
  listExchanges(): Promise<Array<{ name: string; type: string; durable: boolean }>>;
}

/** Registers the hooks of a signal spec file; call once, at its top. */
export function useSignalSpecBroker(label: string): SignalSpecBroker {
  jest.setTimeout(20_000);
  let vhost: ThrowawayVhost;
  let admin: amqplib.ChannelModel;
  const open: Closable[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  const closeAll = () => Promise.all(open.splice(0).map((bus) => bus.close())).then(() => undefined);

  beforeAll(async () => {
    vhost = await createThrowawayVhost(label);
    admin = await amqplib.connect(vhost.url());
    // Reconnect and recovery logs are expected noise here.
    Logger.overrideLogger(false);
  });
  afterEach(async () => {
    await closeAll();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    await admin?.close().catch(() => undefined);
    await vhost?.remove();
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
  });

  return {
    vhost: () => vhost,
    track: (bus) => {
      open.push(bus);
      return bus;
    },
    closeAll,
    proxy: async () => {
      const broker = await BrokerProxy.onFreePort();
      await broker.start();
      cleanups.push(() => broker.stop());
      return broker;
    },
    tap: async (exchange, type, routingKey) => {
      const channel = await admin.createChannel();
      await channel.assertExchange(exchange, type, { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      cleanups.push(async () => {
        await channel.deleteQueue(queue);
        await channel.close();
      });
      await channel.bindQueue(queue, exchange, routingKey);
      return { channel, queue };
    },
    listQueues: async () => {
      const { stdout } = await rabbitmqctl('list_queues', '-p', vhost.name, 'name', 'durable', 'auto_delete', 'exclusive', '--formatter', 'json');
      return JSON.parse(stdout) as QueueInfo[];
    },
    listExchanges: async () => {
      const { stdout } = await rabbitmqctl('list_exchanges', '-p', vhost.name, 'name', 'type', 'durable', '--formatter', 'json');
      return JSON.parse(stdout) as Array<{ name: string; type: string; durable: boolean }>;
    },
  };
}

/** The process queues of this spec (`<exchange>.<host>.<pid>.<random>`) for one exchange. */
export const ownQueue = (exchange: string) => (name: string) => name.startsWith(`${exchange}.${hostname()}.${process.pid}.`);
