import { Logger } from '@nestjs/common';
import { CancelRequest } from './job-cancel-bus';
import { errorMessage } from './amqp-helpers';

type CancelHandler = (request: CancelRequest) => void;

/**
 * The onCancel handlers of a cancel bus and the fan-out of one request to them: each gets its own
 * copy, and one that throws hurts no other. Shared by the in-process and the RabbitMQ bus.
 */
export class CancelHandlers {
  private readonly handlers = new Set<CancelHandler>();

  constructor(private readonly logger: Logger) {}

  add(handler: CancelHandler): void {
    this.handlers.add(handler);
  }

  /** The handlers as they are now, to be told later (the in-process bus tells them on a later turn). */
  snapshot(): CancelHandler[] {
    return [...this.handlers];
  }

  /** Hands `request` to each handler, those registered now or the given snapshot. */
  tell(request: CancelRequest, handlers: Iterable<CancelHandler> = this.handlers): void {
    const { jobId, reason } = request;
    for (const handler of [...handlers]) {
      try {
        handler({ jobId, reason });
      } catch (err) {
        this.logger.error(`A cancel handler threw for job ${jobId}: ${errorMessage(err)}`);
      }
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}
