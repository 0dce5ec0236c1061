import type { Channel } from 'amqplib';
import { QueueUnavailableError } from './job-queue';
import type { BrokerConnection } from './broker-connection';

export interface ManagedChannelOptions<C extends Channel> {
  /** A confirm channel: the broker acks every publish (pass ConfirmChannel as C). Default false. */
  confirm?: boolean;
  /**
   * Declares what the channel needs and subscribes; runs on every (re)connect, and the channel is
   * ready once it resolves. A setup that throws leaves the channel faulted until the next connect.
   */
  setup: (channel: C) => Promise<void>;
}

/**
 * One channel of a BrokerConnection, rebuilt by its setup function on every (re)connect. The adapter
 * that asked for it reads `current` (or waits with `ready`) and keeps only its message logic; the
 * connection keeps this state right: set once the setup has run, cleared when the channel or the
 * connection goes, faulted while the broker closed it or its setup failed.
 */
export class ManagedChannel<C extends Channel = Channel> {
  private live?: C;
  private faultReason: string | null = null;

  constructor(
    /** For logs: `publishing`, `consumer`, `notice listener`... */
    readonly name: string,
    private readonly connection: BrokerConnection,
  ) {}

  /** The channel while it is set up on a live connection; undefined while (re)connecting. */
  get current(): C | undefined {
    return this.live;
  }

  /** Why the channel is gone although the connection is up (its setup failed, the broker closed it), or null. */
  get fault(): string | null {
    return this.faultReason;
  }

  /**
   * The channel, waiting (never past the deadline) only while a first connection or its setup is in
   * progress. Fails at once, with QueueUnavailableError, when closed, when the broker is known to be
   * down or blocking publishers, or when the channel is faulted.
   */
  async ready(deadline: number, timeoutMs: number): Promise<C> {
    for (;;) {
      this.connection.throwIfClosed();
      const blocked = this.connection.blockedReason;
      if (blocked !== null) throw new QueueUnavailableError(`RabbitMQ is refusing publishes (resource alarm: ${blocked})`);
      if (this.live !== undefined) return this.live;
      const down = this.connection.unavailableReason;
      if (down !== null) throw new QueueUnavailableError(down);
      if (this.faultReason !== null) throw new QueueUnavailableError(this.faultReason);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new QueueUnavailableError(`no RabbitMQ channel at ${this.connection.brokerLabel} within ${timeoutMs} ms`);
      }
      await this.connection.nextStateChange(remaining);
    }
  }

  /** Resolves once the channel is ready, the broker is known to be down, on close(), or at the deadline; never rejects. */
  settled(deadline: number): Promise<void> {
    return this.connection.waitUntil(() => this.live !== undefined, deadline);
  }

  // The rest is BrokerConnection's side: it alone changes this state.

  /** Its setup has run on `channel`. */
  setUp(channel: C): void {
    this.live = channel;
    this.faultReason = null;
  }

  /** The channel or the connection has gone. */
  lost(): void {
    this.live = undefined;
  }

  /** Unusable until the next connect. */
  faulted(reason: string): void {
    this.faultReason = reason;
  }

  /** A fresh connection: the setup is about to run again. */
  reconnected(): void {
    this.faultReason = null;
  }
}
