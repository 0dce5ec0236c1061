import { Injectable } from '@nestjs/common';
import { ReadinessAnswer, ReadinessProbe } from '@flansible/contracts';
import { JobQueue } from '@flansible/queue';
import { GatewayJobStore } from '@flansible/store';

/** Whether this gateway should get traffic: the store answers, the queue can take jobs, not shutting down. */
@Injectable()
export class GatewayReadinessService {
  private readonly probe: ReadinessProbe;
  private draining = false;

  constructor(store: GatewayJobStore, queue: JobQueue) {
    this.probe = new ReadinessProbe({ store: () => store.ping(), queue: () => queue.canPublish });
  }

  /** From now on the gateway answers not ready (GatewayDrainService, at shutdown). */
  markDraining(): void {
    this.draining = true;
  }

  answer(): Promise<ReadinessAnswer> {
    return this.probe.answer(this.draining);
  }
}
