import { Injectable } from '@nestjs/common';
import { ReadinessProbe, ReadinessReport } from '@flansible/contracts';
import { JobQueue } from '@flansible/queue';
import { JobStore } from '@flansible/store';

/** Whether this gateway should get traffic: the store answers, the queue can take jobs, not shutting down. */
@Injectable()
export class GatewayReadinessService {
  private readonly probe: ReadinessProbe;
  private draining = false;

  constructor(store: JobStore, queue: JobQueue) {
    this.probe = new ReadinessProbe({ store: () => store.ping(), queue: () => queue.canPublish });
  }

  /** From now on the gateway answers not ready (GatewayDrainService, at shutdown). */
  markDraining(): void {
    this.draining = true;
  }

  report(): Promise<ReadinessReport> {
    return this.probe.report(this.draining);
  }
}
