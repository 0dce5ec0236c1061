import { AddressInfo, Server, Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP forwarder to the broker (or, given its port, to another local service such as PostgreSQL)
 * that a test can take down and bring back, like a restart of what is behind it, or hold: the
 * connections stay up but nothing gets through, like a service that stopped answering.
 */
export class BrokerProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** While held: the writes not passed on yet, in the order they came. */
  private held: (() => void)[] | null = null;
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
    const server = createServer((client) => {
      // Accepted just as stop() ran: what stop() destroyed, this is too (else close() waits on it).
      if (this.server !== server) {
        client.destroy();
        return;
      }
      const upstream = createConnection(this.upstreamPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      this.relay(client, upstream);
      this.relay(upstream, client);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
  }

  /** Passes nothing on, either way, until release(). */
  hold(): void {
    this.held ??= [];
  }

  /** Passes on what was held, then forwards again. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const write of held) write();
  }

  /**
   * Stops accepting first, then cuts every connection: in the other order a client reconnecting
   * in between (a pool retrying every few milliseconds) kept close() waiting for ever.
   */
  async stop(): Promise<void> {
    this.held = null;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private relay(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      const write = () => to.destroyed || to.write(chunk);
      if (this.held) this.held.push(write);
      else write();
    });
    from.on('end', () => to.end());
  }
}
