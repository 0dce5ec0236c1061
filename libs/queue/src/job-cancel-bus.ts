/** A cancel request for a job running somewhere. */
export interface CancelRequest {
  jobId: string;
  reason: string;
}

/**
 * Cancel requests from the gateway to every runner (RabbitMQ: the flansible.control fanout;
 * embedded: in-process). Also the DI token.
 *
 * A hint too: the gateway records the request in the store first, and a runner that missed the
 * broadcast (disconnected at that moment) finds it there on its next heartbeat.
 */
export abstract class JobCancelBus {
  /**
   * Asks every runner to stop a job; resolves once the broker has taken the request, rejects with
   * QueueUnavailableError quickly otherwise. Runners disconnected at that moment never see it.
   */
  abstract requestCancel(request: CancelRequest): Promise<void>;
  /**
   * Called on every cancel request (runners). Resolves once subscribed, or at once if the broker is
   * unreachable (the subscription follows when it is back); rejects only after close().
   */
  abstract onCancel(handler: (request: CancelRequest) => void): Promise<void>;
  /** Idempotent; never waits long on an unreachable broker. */
  abstract close(): Promise<void>;
}
