import { Logger } from '@nestjs/common';
import { Topology } from '@flansible/contracts';
import { errorMessage } from './amqp-helpers';
import { BrokerConnection, BrokerConnectionOptions } from './broker-connection';
import { ManagedChannel } from './managed-channel';
import { HeldDeliveries, JobQueueStats, QueueDepth } from './job-queue-stats';
import { declareJobTopology } from './rabbitmq-topology';

export interface RabbitMqJobQueueStatsOptions extends BrokerConnectionOptions {
  /** A scrape waits at most this long for the broker's counts. Default 1000. */
  readTimeoutMs?: number;
  /** Scrapes within this long of a reading share it (every scraper and every target at once). Default 1000. */
  cacheMs?: number;
}

/**
 * The distributed deployment's counts. Ready messages come from the broker: a passive declare
 * (checkQueue) of each queue, on a connection of its own opened at the first scrape, so a process
 * nobody scrapes holds none. AMQP tells nothing about unacknowledged messages, so those are the
 * deliveries this process's consumer holds (0 on a gateway): summed over the runners, they are the
 * broker's unacked count. Flansible never consumes the dead-letter queue: its unacked is 0.
 */
export class RabbitMqJobQueueStats extends JobQueueStats {
  private readonly logger = new Logger(RabbitMqJobQueueStats.name);
  private readonly readTimeoutMs: number;
  private readonly cacheMs: number;
  private connection?: BrokerConnection;
  private channel?: ManagedChannel;
  private reading?: { at: number; ready: Promise<Map<string, number> | null> };
  private lastFailure: string | null = null;

  constructor(
    private readonly options: RabbitMqJobQueueStatsOptions,
    private readonly held: HeldDeliveries,
  ) {
    super();
    this.readTimeoutMs = options.readTimeoutMs ?? 1000;
    this.cacheMs = options.cacheMs ?? 1000;
  }

  async read(): Promise<QueueDepth[]> {
    const depths: QueueDepth[] = [
      { queue: Topology.jobsQueue, state: 'unacked', messages: this.held.count },
      { queue: Topology.deadLetterQueue, state: 'unacked', messages: 0 },
    ];
    const ready = await this.readyCounts();
    // The broker unreachable: its counts are left out rather than shown as 0.
    if (ready) {
      for (const [queue, messages] of ready) depths.push({ queue: queue as QueueDepth['queue'], state: 'ready', messages });
    }
    return depths;
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }

  private readyCounts(): Promise<Map<string, number> | null> {
    const now = Date.now();
    if (!this.reading || now - this.reading.at >= this.cacheMs) {
      this.reading = { at: now, ready: this.readFromBroker() };
    }
    return this.reading.ready;
  }

  private async readFromBroker(): Promise<Map<string, number> | null> {
    const deadline = Date.now() + this.readTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from RabbitMQ within ${this.readTimeoutMs} ms`)), this.readTimeoutMs);
    });
    try {
      const channel = await this.connect().ready(deadline, this.readTimeoutMs);
      const answers = await Promise.race([
        Promise.all([channel.checkQueue(Topology.jobsQueue), channel.checkQueue(Topology.deadLetterQueue)]),
        timedOut,
      ]);
      this.lastFailure = null;
      return new Map(answers.map((answer) => [answer.queue, answer.messageCount]));
    } catch (err) {
      // Scrapes come every few seconds: log each distinct failure once.
      const reason = errorMessage(err);
      if (reason !== this.lastFailure) this.logger.warn(`Could not read the queue counts from RabbitMQ: ${reason}`);
      this.lastFailure = reason;
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The statistics channel, connecting at the first call. */
  private connect(): ManagedChannel {
    if (this.channel) return this.channel;
    this.connection = new BrokerConnection(this.options, {
      logger: this.logger,
      closedReason: 'the queue statistics are closed',
    });
    // Declared like every client does, so a passive check never meets a missing queue (which
    // would close the channel).
    this.channel = this.connection.channel('statistics', { setup: (channel) => declareJobTopology(channel) });
    return this.channel;
  }
}
