import { Logger } from '@nestjs/common';
import { Channel } from 'amqplib';
import { AmqpConnectionManager, ChannelWrapper, connect } from 'amqp-connection-manager';
import { QueueUnavailableError } from './job-queue';
import { describeBroker, errorMessage, withTimeout } from './amqp-helpers';
import { ManagedChannel, ManagedChannelOptions } from './managed-channel';

/** What every RabbitMQ adapter needs to reach the broker; their options extend this. */
export interface BrokerConnectionOptions {
  /** amqp:// or amqps:// URL, vhost included. Never logged with its credentials. */
  url: string;
  /** Shown in the management UI's connection list, e.g. `flansible-gateway@host:1234`. */
  connectionName: string;
  /** AMQP heartbeat; a silently dead broker is noticed after about twice this. Default 10. */
  heartbeatSeconds?: number;
  /** Pause between reconnect attempts. Default 1. */
  reconnectSeconds?: number;
  /** Limit for one connection attempt (TCP + AMQP handshake). Default 5000. */
  connectTimeoutMs?: number;
  /** close() gives up waiting for the broker after this long. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * A channel the broker closed while the connection stayed up (e.g. a queue or exchange deleted under
   * it) is not reopened by amqp-connection-manager until the next reconnect; after this delay we force
   * one. Default 5.
   */
  channelRecoverySeconds?: number;
}

/** How the adapter that owns a BrokerConnection takes part in it. */
export interface BrokerConnectionOwner {
  /** The adapter's logger, so every line keeps the adapter's name as its context. */
  logger: Logger;
  /** The reason given once closed, e.g. `the job queue is closed`. */
  closedReason: string;
  /** Connected (again); the channel setup functions are about to run. */
  onConnect?: () => void;
}

/**
 * One AMQP connection of a RabbitMQ adapter, on amqp-connection-manager: connects and reconnects,
 * knows in one line why the broker is unusable (down, unreachable, blocking publishers), logs each
 * transition once, hands out managed channels (`channel(name, { confirm, setup })`) and keeps their
 * state, wakes callers waiting for one, forces a reconnect to reopen a channel the broker closed
 * under a live connection, and closes without hanging on an unreachable broker.
 *
 * The adapters keep their topology (in the setup functions) and their message logic.
 */
export class BrokerConnection {
  /** scheme://host:port/vhost: the broker, without credentials, for logs and errors. */
  readonly brokerLabel: string;
  readonly channelRecoveryMs: number;
  readonly closeTimeoutMs: number;

  private readonly manager: AmqpConnectionManager;
  private readonly logger: Logger;
  private readonly wrappers: ChannelWrapper[] = [];
  /** Every managed channel, told when the connection comes and goes. */
  private readonly channels: Array<Pick<ManagedChannel, 'lost' | 'reconnected'>> = [];
  private readonly closedChannels = new WeakSet<Channel>();
  /** Woken whenever the state changes (callers waiting for a channel or a subscription). */
  private readonly stateWaiters = new Set<() => void>();

  /** Bumped on every connect; tells a stale channel-recovery timer that a reconnect already happened. */
  private connectionGeneration = 0;
  private recoveringGeneration = -1;
  private unavailable: string | null = null;
  private lastLoggedFailure: string | null = null;
  private blocked: string | null = null;
  private closed = false;
  private closing?: Promise<void>;

  constructor(
    private readonly options: BrokerConnectionOptions,
    private readonly owner: BrokerConnectionOwner,
  ) {
    this.logger = owner.logger;
    this.brokerLabel = describeBroker(options.url);
    this.channelRecoveryMs = (options.channelRecoverySeconds ?? 5) * 1000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.manager = connect(options.url, {
      heartbeatIntervalInSeconds: options.heartbeatSeconds ?? 10,
      reconnectTimeInSeconds: options.reconnectSeconds ?? 1,
      connectionOptions: {
        timeout: options.connectTimeoutMs ?? 5000,
        clientProperties: { connection_name: options.connectionName },
      },
    });
    this.watchConnection();
  }

  /** Why the broker cannot be used right now; null while connected or still on the first attempt. */
  get unavailableReason(): string | null {
    return this.unavailable;
  }

  /** The broker's resource alarm while it blocks publishers, else null. */
  get blockedReason(): string | null {
    return this.blocked;
  }

  /** True from the first close() call on. */
  get isClosed(): boolean {
    return this.closed;
  }

  throwIfClosed(): void {
    if (this.closed) throw new QueueUnavailableError(this.owner.closedReason);
  }

  /**
   * A channel (re)built by `options.setup` on every (re)connect, opened now (or as soon as the broker
   * is reachable). Its state lives in the returned ManagedChannel.
   */
  channel<C extends Channel = Channel>(name: string, options: ManagedChannelOptions<C>): ManagedChannel<C> {
    const managed = new ManagedChannel<C>(name, this);
    const wrapper = this.manager.createChannel({
      name,
      confirm: options.confirm ?? false,
      // amqp-connection-manager hands a ConfirmChannel exactly when `confirm` is set.
      setup: async (raw: Channel) => {
        const channel = raw as C;
        this.watch(channel, managed);
        await options.setup(channel);
        if (this.closed || this.closedChannels.has(channel)) return;
        managed.setUp(channel);
        this.notifyStateChanged();
      },
    });
    wrapper.on('error', (err: Error) => {
      managed.faulted(`could not set up the RabbitMQ ${name} channel: ${err.message}`);
      this.logger.error(`Could not set up the RabbitMQ ${name} channel: ${err.message}`);
      this.notifyStateChanged();
    });
    this.wrappers.push(wrapper);
    this.channels.push(managed);
    return managed;
  }

  /** The channel has closed (a delivery on it can no longer be settled, a setup on it is stale). */
  hasClosed(channel: Channel): boolean {
    return this.closedChannels.has(channel);
  }

  /** Wakes every waiter so it looks at the state again. */
  private notifyStateChanged(): void {
    for (const wake of [...this.stateWaiters]) wake();
  }

  /** Waits (never past the deadline) until `done()`, the broker is known to be down, or close(). */
  async waitUntil(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && !this.closed && this.unavailable === null) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return;
      await this.nextStateChange(remaining);
    }
  }

  /**
   * Closed from now on for the adapter (waiters wake and fail, recovery stops); then `finishWork`
   * (e.g. cancelling a consumer) and the connection itself. Idempotent: later calls get the same promise.
   */
  close(finishWork?: () => void | Promise<void>): Promise<void> {
    this.closing ??= this.shutDown(finishWork);
    return this.closing;
  }

  private async shutDown(finishWork?: () => void | Promise<void>): Promise<void> {
    this.closed = true;
    for (const channel of this.channels) channel.lost();
    this.notifyStateChanged();
    await finishWork?.();
    // amqp-connection-manager's close() stops the retries at once but then waits for a connection
    // attempt in progress (and closes it if it succeeds). Without a connection there is nothing to
    // wait for; with one, the broker gets closeTimeoutMs to answer. Exclusive queues go with it.
    const wasConnected = this.manager.isConnected();
    const closingConnection = this.manager.close().catch((err: unknown) => {
      this.logger.debug(`Closing the RabbitMQ connection: ${errorMessage(err)}`);
    });
    if (wasConnected && !(await withTimeout(closingConnection, this.closeTimeoutMs))) {
      this.logger.warn(`RabbitMQ did not answer within ${this.closeTimeoutMs} ms while closing; giving up on it`);
    }
    this.manager.removeAllListeners();
    for (const wrapper of this.wrappers) wrapper.removeAllListeners();
    this.logger.log(`Closed the RabbitMQ connection ${this.options.connectionName}`);
  }

  private watchConnection(): void {
    this.manager.on('connect', () => {
      this.connectionGeneration++;
      this.unavailable = null;
      this.lastLoggedFailure = null;
      this.blocked = null;
      for (const channel of this.channels) channel.reconnected();
      this.logger.log(`Connected to RabbitMQ at ${this.brokerLabel} as ${this.options.connectionName}`);
      this.owner.onConnect?.();
      this.notifyStateChanged();
    });
    this.manager.on('disconnect', ({ err }: { err?: Error }) => {
      const reason = err?.message ?? 'connection closed';
      this.unavailable = `lost the connection to RabbitMQ at ${this.brokerLabel}: ${reason}`;
      for (const channel of this.channels) channel.lost();
      this.logger.warn(`Disconnected from RabbitMQ at ${this.brokerLabel}: ${reason}; reconnecting`);
      this.notifyStateChanged();
    });
    this.manager.on('connectFailed', ({ err }: { err: Error }) => {
      const reason = err.message || err.name;
      this.unavailable = `cannot connect to RabbitMQ at ${this.brokerLabel}: ${reason}`;
      // Retries run every second while the broker is down: log each distinct failure once.
      if (reason !== this.lastLoggedFailure) {
        this.lastLoggedFailure = reason;
        this.logger.warn(`Cannot connect to RabbitMQ at ${this.brokerLabel}: ${reason}; retrying`);
      }
      this.notifyStateChanged();
    });
    this.manager.on('blocked', ({ reason }: { reason: string }) => {
      this.blocked = reason;
      this.logger.warn(`RabbitMQ is blocking publishers (resource alarm): ${reason}`);
      this.notifyStateChanged();
    });
    this.manager.on('unblocked', () => {
      this.blocked = null;
      this.logger.log('RabbitMQ unblocked publishers');
      this.notifyStateChanged();
    });
  }

  /**
   * Registered by the setup wrapper before the adapter's setup runs (if declaring fails, the broker
   * closes the channel and recovery must notice). Without an 'error' listener amqplib would turn a
   * channel error into a lost connection.
   */
  private watch<C extends Channel>(channel: C, managed: ManagedChannel<C>): void {
    channel.on('error', (err: Error) => {
      this.logger.warn(`RabbitMQ closed the ${managed.name} channel: ${err.message}`);
      // Until the recovery reconnect reopens it, waits for it fail at once with this reason.
      managed.faulted(`RabbitMQ closed the ${managed.name} channel: ${err.message}`);
    });
    channel.once('close', () => {
      this.closedChannels.add(channel);
      if (managed.current === channel) managed.lost();
      this.notifyStateChanged();
      this.scheduleChannelRecovery(managed.name, () => managed.current === undefined);
    });
  }

  /** Resolves on the next change of state (connect, disconnect, a channel set up or lost...) or after timeoutMs. */
  nextStateChange(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.stateWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.stateWaiters.add(wake);
    });
  }

  /**
   * After a channel closed while its connection stayed up, force a reconnect so the setup functions
   * run again; amqp-connection-manager would otherwise leave the channel closed until the next
   * connection loss.
   */
  private scheduleChannelRecovery(channelName: string, stillLost: () => boolean): void {
    if (this.closed) return;
    const generation = this.connectionGeneration;
    const timer = setTimeout(() => {
      if (this.closed || !stillLost() || !this.manager.isConnected()) return;
      // A reconnect since the channel closed has already replaced it (or is replacing it).
      if (generation !== this.connectionGeneration || this.recoveringGeneration === generation) return;
      this.recoveringGeneration = generation;
      this.logger.warn(
        `The RabbitMQ ${channelName} channel was closed while the connection stayed up; reconnecting to reopen it`,
      );
      this.manager.reconnect();
    }, this.channelRecoveryMs);
    timer.unref();
  }
}
