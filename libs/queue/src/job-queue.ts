import { JobMessage } from '@flansible/contracts';

/** The broker could not take the message durably (down, unreachable, no confirm in time). */
export class QueueUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'QueueUnavailableError';
  }
}

export interface DeliveryInfo {
  /** The broker has delivered this message before (a runner died or a handler failed). */
  redelivered: boolean;
}

/**
 * Handles one job message. Resolving acknowledges the message (only after the result is stored);
 * throwing returns it to the queue, and after too many deliveries it is dead-lettered.
 */
export type JobHandler = (message: JobMessage, delivery: DeliveryInfo) => Promise<void>;

/**
 * The job bus port: RabbitMQ in the distributed deployment, in-process in the embedded one.
 * Also the DI token.
 */
export abstract class JobQueue {
  /** Resolves only once the message is durably queued; rejects with QueueUnavailableError quickly otherwise. */
  abstract publish(message: JobMessage): Promise<void>;
  /** Starts delivering messages to handler, at most `concurrency` at a time. */
  abstract consume(handler: JobHandler, concurrency: number): Promise<void>;
  /** Stops consuming, waits for nothing else, and releases connections. */
  abstract close(): Promise<void>;

  /**
   * Takes no more messages (a draining runner), also after a reconnect: a message not yet handed to
   * the handler goes back to the queue at once, for other consumers; handlers already running
   * finish and settle their messages as usual. Publishing is unaffected. Idempotent.
   */
  abstract stopConsuming(): Promise<void>;
  /** True while consume() is delivering: consuming started, attached to the broker, not stopped. */
  abstract get consuming(): boolean;
  /** True while a publish can be expected to be taken: a state check, no round trip to the broker. */
  abstract get canPublish(): boolean;
}
