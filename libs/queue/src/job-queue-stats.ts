import { Topology } from '@flansible/contracts';
import { InProcessJobQueue } from './in-process-job-queue';

/** How many messages one queue holds in one state, as `flansible_queue_messages{queue,state}` shows it. */
export interface QueueDepth {
  queue: typeof Topology.jobsQueue | typeof Topology.deadLetterQueue;
  state: 'ready' | 'unacked';
  messages: number;
}

/**
 * Deliveries this process's consumer holds unacknowledged: handed to the job handler, whose
 * promise has not settled yet (JobQueueServer acks or returns the message when it does). The
 * metrics read the count; a drain waits for none to be left.
 */
export class HeldDeliveries {
  private readonly held = new Set<Promise<unknown>>();

  get count(): number {
    return this.held.size;
  }

  track<T>(delivery: () => Promise<T>): Promise<T> {
    const handling = delivery();
    this.held.add(handling);
    const forget = () => this.held.delete(handling);
    handling.then(forget, forget);
    return handling;
  }

  /** Resolves once none is held (what a drain waits for once consuming has stopped). */
  async idle(): Promise<void> {
    while (this.held.size > 0) await Promise.allSettled([...this.held]);
  }
}

/**
 * Reads the job queue's and the dead-letter queue's message counts for the metrics, at scrape
 * time. Also the DI token. Never throws: what cannot be read is left out.
 */
export abstract class JobQueueStats {
  abstract read(): Promise<QueueDepth[]>;
  /** Releases whatever the reading holds (a broker connection). */
  abstract close(): Promise<void>;
}

/**
 * The embedded deployment's counts, from the in-process queue itself: ready = waiting for a
 * handler slot, unacked = with a handler. It keeps no dead letters (it logs and drops a message
 * after its last delivery; the store still has the job), so that queue always reads 0.
 */
export class InProcessJobQueueStats extends JobQueueStats {
  constructor(
    private readonly queue: InProcessJobQueue,
    private readonly held: HeldDeliveries,
  ) {
    super();
  }

  async read(): Promise<QueueDepth[]> {
    return [
      { queue: Topology.jobsQueue, state: 'ready', messages: this.queue.depth },
      { queue: Topology.jobsQueue, state: 'unacked', messages: this.held.count },
      { queue: Topology.deadLetterQueue, state: 'ready', messages: 0 },
      { queue: Topology.deadLetterQueue, state: 'unacked', messages: 0 },
    ];
  }

  async close(): Promise<void> {}
}
