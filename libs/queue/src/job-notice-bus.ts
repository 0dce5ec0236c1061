import { JobNotice } from '@flansible/contracts';

/** A cancel request for a job running somewhere. */
export interface CancelRequest {
  jobId: string;
  reason: string;
}

/**
 * Live signals beside the job queue, never on it (RabbitMQ: the flansible.notices topic exchange
 * and the flansible.control fanout; embedded: in-process). Also the DI token.
 *
 * Notices are hints, best effort and possibly duplicated: the store holds the data, and a
 * listener re-reads it from its own cursor on each notice, so a lost or repeated notice can
 * delay an update but never lose or duplicate one.
 */
export abstract class JobNoticeBus {
  /** Tells listeners that a job has new output, events or status. Never throws; never waits on the broker. */
  abstract notify(notice: JobNotice): void;
  /**
   * Calls `listener` for notices of `jobId` until the returned function is called. Each process
   * holds one broker subscription and fans notices out to its listeners.
   */
  abstract listen(jobId: string, listener: (notice: JobNotice) => void): () => void;
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
