import { Logger } from '@nestjs/common';
import { CancelHandlers } from './cancel-handlers';
import { CancelRequest, JobCancelBus } from './job-cancel-bus';
import { QueueUnavailableError } from './job-queue';

/**
 * The cancel bus of the embedded deployment: the gateway's requests reach the runner's handlers in
 * the same process, on a later turn of the event loop, as over a broker: the requester's own
 * continuation runs first.
 */
export class InProcessJobCancelBus extends JobCancelBus {
  private readonly logger = new Logger(InProcessJobCancelBus.name);
  private readonly handlers = new CancelHandlers(this.logger);
  private closed = false;

  async requestCancel(request: CancelRequest): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the cancel bus is closed');
    const { jobId, reason } = request;
    const handlers = this.handlers.snapshot();
    setImmediate(() => {
      if (!this.closed) this.handlers.tell({ jobId, reason }, handlers);
    });
  }

  async onCancel(handler: (request: CancelRequest) => void): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('the cancel bus is closed');
    this.handlers.add(handler);
  }

  /** Forgets every handler. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
