import { AddressInfo, Server, Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP forwarder to the broker (or, given its port, to another local service such as PostgreSQL)
 * that a test can take down and bring back, like a restart of what is behind it.
 */
export class BrokerProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly upstreamPort = 5672,
  ) {}

  static async onFreePort(upstreamPort = 5672): Promise<BrokerProxy> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return new BrokerProxy(port, upstreamPort);
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(this.upstreamPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
    this.server = undefined;
  }
}
