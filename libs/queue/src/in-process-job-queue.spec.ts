import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobMessage, Topology } from '@flansible/contracts';
import { InProcessJobQueue } from './in-process-job-queue';
import { DeliveryInfo, QueueUnavailableError } from './job-queue';
import { eventually, gate, heldHandler, silenceNestLogs } from '@flansible/testing';

let nextId = 0;
function job(): JobMessage {
  return {
    schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
    jobId: `job-${++nextId}`,
    submittedBy: 'alice',
    submittedAt: new Date().toISOString(),
    spec: { kind: JobKind.Command, hostPattern: 'all', module: 'ping', inventoryPath: '/srv/hosts.yml' },
  };
}


/** Lets queued microtasks and handler continuations run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Short retry delays (the deployment's start at 1 s), growing as the real ones do. */
const FAST_RETRIES = [5, 10, 20, 40, 80];
const newQueue = () => new InProcessJobQueue({ retryDelaysMs: FAST_RETRIES });


silenceNestLogs();

/** In-process deliveries take microseconds: look every millisecond, so a test sees each step in time. */
const POLL = { intervalMs: 1, timeoutMs: 5_000 };

describe('InProcessJobQueue', () => {
  it('delivers jobs in the order they were published, including those published before consume()', async () => {
    const queue = newQueue();
    const jobs = [job(), job(), job()];
    await queue.publish(jobs[0]);
    const handled: string[] = [];

    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);
    await queue.publish(jobs[1]);
    await queue.publish(jobs[2]);

    await eventually(() => handled.length === 3, 'three deliveries', POLL);
    expect(handled).toEqual(jobs.map((j) => j.jobId));
  });

  it('hands the handler a copy, as the wire would', async () => {
    const queue = newQueue();
    const published = job();
    let received: JobMessage | undefined;
    await queue.consume(async (message) => {
      received = message;
    }, 1);

    await queue.publish(published);
    await eventually(() => received !== undefined, 'the delivery', POLL);

    expect(received).toEqual(published);
    expect(received).not.toBe(published);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const queue = newQueue();
    const load = heldHandler();
    await queue.consume(load.handler, 2);

    for (let i = 0; i < 5; i++) await queue.publish(job());
    await eventually(() => load.running === 2, 'two running handlers', POLL);
    await settle();
    expect(load.running).toBe(2);
    expect(queue.depth).toBe(3);

    load.release();
    await eventually(() => load.done === 5, 'all five jobs', POLL);
    expect(load.mostAtOnce).toBe(2);
  });

  it('redelivers a job whose handler threw, flagged redelivered', async () => {
    const queue = newQueue();
    const published = job();
    const deliveries: Array<{ jobId: string; delivery: DeliveryInfo }> = [];
    await queue.consume(async (message, delivery) => {
      deliveries.push({ jobId: message.jobId, delivery });
      if (deliveries.length === 1) throw new Error('runner hiccup');
    }, 1);

    await queue.publish(published);
    await eventually(() => deliveries.length === 2, 'the redelivery', POLL);

    expect(deliveries).toEqual([
      { jobId: published.jobId, delivery: { redelivered: false } },
      { jobId: published.jobId, delivery: { redelivered: true } },
    ]);
  });

  it('drops a job that keeps failing after the same number of deliveries as the quorum queue', async () => {
    const queue = newQueue();
    const failing = job();
    const healthy = job();
    const attempts = new Map<string, number>();
    await queue.consume(async (message) => {
      attempts.set(message.jobId, (attempts.get(message.jobId) ?? 0) + 1);
      if (message.jobId === failing.jobId) throw new Error('always broken');
    }, 1);

    await queue.publish(failing);
    await queue.publish(healthy);
    await eventually(() => attempts.has(healthy.jobId), 'the healthy job', POLL);
    await eventually(() => attempts.get(failing.jobId) === Topology.deliveryLimit + 1 && queue.depth === 0, 'the last retry', POLL);
    // Longer than any retry delay: nothing comes back after the last one.
    await new Promise((resolve) => setTimeout(resolve, 2 * Math.max(...FAST_RETRIES)));

    expect(attempts.get(failing.jobId)).toBe(Topology.deliveryLimit + 1);
    expect(attempts.get(healthy.jobId)).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it('waits a growing delay before each retry, delivering other jobs meanwhile', async () => {
    const queue = new InProcessJobQueue({ retryDelaysMs: [40, 80, 160] });
    const failing = job();
    const healthy = job();
    const deliveredAt: number[] = [];
    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
      if (message.jobId !== failing.jobId) return;
      deliveredAt.push(Date.now());
      if (deliveredAt.length <= 3) throw new Error('store unavailable');
    }, 1);

    await queue.publish(failing);
    await eventually(() => deliveredAt.length === 1, 'the first delivery', POLL);
    await queue.publish(healthy);
    await eventually(() => deliveredAt.length === 4, 'the fourth delivery', POLL);

    // Never sooner than its delay (a timer may fire a millisecond early); the third waits the last one.
    const gaps = deliveredAt.slice(1).map((at, i) => at - deliveredAt[i]);
    [40, 80, 160].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay - 1));
    // The healthy job did not wait behind the failing one's delay.
    expect(handled.indexOf(healthy.jobId)).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it('drops jobs waiting out their retry delay when closed', async () => {
    const queue = new InProcessJobQueue({ retryDelaysMs: [50] });
    let calls = 0;
    await queue.consume(async () => {
      calls++;
      throw new Error('store unavailable');
    }, 1);
    await queue.publish(job());
    await eventually(() => calls === 1 && queue.depth === 1, 'the job to wait for its retry', POLL);
    await queue.close();
    expect(queue.depth).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
  });

  it('a handler that throws synchronously is retried like an async one', async () => {
    const queue = newQueue();
    let calls = 0;
    await queue.consume(((): Promise<void> => {
      calls++;
      if (calls === 1) throw new Error('sync throw');
      return Promise.resolve();
    }), 1);

    await queue.publish(job());
    await eventually(() => calls === 2, 'the retry', POLL);
  });

  it('stops taking work once closed, letting running handlers finish', async () => {
    const queue = newQueue();
    const release = gate();
    const started: string[] = [];
    let finished = 0;
    await queue.consume(async (message) => {
      started.push(message.jobId);
      await release.wait;
      finished++;
    }, 1);
    const first = job();
    await queue.publish(first);
    await queue.publish(job());
    await eventually(() => started.length === 1, 'the first job', POLL);

    await queue.close();
    await queue.close(); // idempotent
    await expect(queue.publish(job())).rejects.toBeInstanceOf(QueueUnavailableError);
    release.release();
    await eventually(() => finished === 1, 'the running job to finish', POLL);
    for (let i = 0; i < 10; i++) await settle();

    expect(started).toEqual([first.jobId]);
    await expect(queue.consume(async () => undefined, 1)).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('rejects a concurrency that is not a positive integer, and a second consume()', async () => {
    const queue = newQueue();
    await expect(queue.consume(async () => undefined, 0)).rejects.toBeInstanceOf(RangeError);
    await expect(queue.consume(async () => undefined, 1.5)).rejects.toBeInstanceOf(RangeError);
    await queue.consume(async () => undefined, 1);
    await expect(queue.consume(async () => undefined, 1)).rejects.toThrow(/already/);
  });
});
