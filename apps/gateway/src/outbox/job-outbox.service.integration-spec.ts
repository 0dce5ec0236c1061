import { Logger } from '@nestjs/common';
import { configWith } from '@flansible/config';
import { JobMessage, JobStatus } from '@flansible/contracts';
import { InProcessJobQueue, QueueUnavailableError } from '@flansible/queue';
import { JobStore } from '@flansible/store';
import { newJob, STORE_BACKENDS, withMigratedStores } from '@flansible/store/testing';
import { JobOutboxService } from './job-outbox.service';

jest.setTimeout(30_000);

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

/**
 * The reconciler over the real stores (SQLite, PostgreSQL) and the in-process queue, its sweep
 * called by hand: what a gateway that died between the insert and the broker's confirm leaves
 * behind gets published, once per sweep, and only that.
 */
describe.each(STORE_BACKENDS)('JobOutboxService on $name', (backend) => {
  let store: JobStore;
  let other: JobStore;
  withMigratedStores(backend, (opened) => ({ store, other } = opened));

  const config = configWith({ publishTimeoutMs: 1000 });
  const ago = (ms: number) => new Date(Date.now() - ms);

  async function consumed(queue: InProcessJobQueue): Promise<string[]> {
    const ids: string[] = [];
    await queue.consume(async (message: JobMessage) => void ids.push(message.jobId), 4);
    return ids;
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('publishes the queued jobs no broker confirmed once their gateway must have given up, and marks them', async () => {
    const queue = new InProcessJobQueue();
    const outbox = new JobOutboxService(config, store, queue);
    expect(outbox.orphanAfterMs).toBe(2000);
    const orphan = newJob({ createdAt: ago(2500) });
    const inFlight = newJob({ createdAt: ago(500) });
    const confirmed = newJob({ createdAt: ago(2500) });
    for (const job of [orphan, inFlight, confirmed]) await store.createJob(job);
    await store.markPublished(confirmed.id, new Date());
    const delivered = await consumed(queue);

    expect(await outbox.sweep()).toBe(1);
    await settle();
    expect(delivered).toEqual([orphan.id]);
    // Marked: the next sweep, from any gateway, leaves it alone.
    expect(await new JobOutboxService(config, other, queue).sweep()).toBe(0);
    expect((await store.findUnpublishedJobs(new Date(), 100)).map((j) => j.id)).toEqual([inFlight.id]);
    await store.completeJob(inFlight.id, { status: JobStatus.Canceled, reason: 'tidy', returnCode: null }, new Date());
    await queue.close();
  });

  it('keeps an orphan it could not publish for the next sweep', async () => {
    const queue = new InProcessJobQueue();
    const outbox = new JobOutboxService(config, store, queue);
    const orphan = newJob({ createdAt: ago(5000) });
    await store.createJob(orphan);
    const delivered = await consumed(queue);
    jest.spyOn(queue, 'publish').mockRejectedValueOnce(new QueueUnavailableError('RabbitMQ is down'));

    expect(await outbox.sweep()).toBe(0);
    expect((await store.findUnpublishedJobs(new Date(), 100)).map((j) => j.id)).toEqual([orphan.id]);
    expect(await outbox.sweep()).toBe(1);
    await settle();
    expect(delivered).toEqual([orphan.id]);
    await queue.close();
  });
});
