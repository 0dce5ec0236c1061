import { recorder, silenceNestLogs } from '@flansible/testing';
import { CancelRequest } from './job-cancel-bus';
import { InProcessJobCancelBus } from './in-process-job-cancel-bus';
import { QueueUnavailableError } from './job-queue';

const settle = () => new Promise((resolve) => setImmediate(resolve));

silenceNestLogs();

describe('InProcessJobCancelBus', () => {
  it('hands cancel requests to every onCancel handler, after requestCancel() has resolved', async () => {
    const bus = new InProcessJobCancelBus();
    const first = recorder<CancelRequest>();
    const second = recorder<CancelRequest>();
    await bus.onCancel(() => {
      throw new Error('a broken handler');
    });
    await bus.onCancel(first.record);
    await bus.onCancel(second.record);
    const request: CancelRequest = { jobId: 'a', reason: 'canceled by alice' };

    await bus.requestCancel(request);
    expect(first.seen).toEqual([]);
    await settle();

    expect(first.seen).toEqual([request]);
    expect(second.seen).toEqual([request]);
  });

  it('once closed: requestCancel and onCancel reject, and a request still on its way is dropped', async () => {
    const bus = new InProcessJobCancelBus();
    const cancels = recorder<CancelRequest>();
    await bus.onCancel(cancels.record);
    await bus.requestCancel({ jobId: 'a', reason: 'before close' });

    await bus.close();
    await bus.close(); // idempotent
    await settle();

    expect(cancels.seen).toEqual([]);
    await expect(bus.requestCancel({ jobId: 'a', reason: 'test' })).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(bus.onCancel(() => undefined)).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});
