import { JobNotice } from '@flansible/contracts';

/**
 * Live notices beside the job queue, never on it (RabbitMQ: the flansible.notices topic exchange;
 * embedded: in-process). Also the DI token.
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
  /** Idempotent; never waits long on an unreachable broker. */
  abstract close(): Promise<void>;
}
