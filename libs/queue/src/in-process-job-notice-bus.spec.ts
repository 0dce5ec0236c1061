import { recorder, silenceNestLogs } from '@flansible/testing';
import { JobNotice } from '@flansible/contracts';
import { InProcessJobNoticeBus } from './in-process-job-notice-bus';

/** Lets queued microtasks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

silenceNestLogs();

describe('InProcessJobNoticeBus', () => {
  it('tells the listeners of a job, after notify() has returned, and no one else', async () => {
    const bus = new InProcessJobNoticeBus();
    const onA = recorder<JobNotice>();
    const onB = recorder<JobNotice>();
    bus.listen('a', onA.record);
    bus.listen('b', onB.record);

    bus.notify({ jobId: 'a', what: 'output' });
    bus.notify({ jobId: 'c', what: 'status' });
    expect(onA.seen).toEqual([]); // never inside the notifier's call
    await settle();

    expect(onA.seen).toEqual([{ jobId: 'a', what: 'output' }]);
    expect(onB.seen).toEqual([]);
  });

  it('tells every listener of a job; one that unsubscribed hears nothing more, one that throws hurts no other', async () => {
    const bus = new InProcessJobNoticeBus();
    const first = recorder<JobNotice>();
    const second = recorder<JobNotice>();
    bus.listen('a', () => {
      throw new Error('a broken listener');
    });
    const stopFirst = bus.listen('a', first.record);
    const stopSecond = bus.listen('a', second.record);

    bus.notify({ jobId: 'a', what: 'events' });
    stopFirst(); // after notify(), before delivery: not told either
    stopFirst(); // idempotent
    await settle();
    bus.notify({ jobId: 'a', what: 'status' });
    await settle();

    expect(first.seen).toEqual([]);
    expect(second.seen).toEqual([
      { jobId: 'a', what: 'events' },
      { jobId: 'a', what: 'status' },
    ]);
    stopSecond();
    expect(bus.listenedJobs).toBe(1); // the broken listener is still there
  });

  it('counts the same function listening twice as two listeners, and forgets a job with no listener left', async () => {
    const bus = new InProcessJobNoticeBus();
    const heard = recorder<JobNotice>();
    const stopOne = bus.listen('a', heard.record);
    const stopTwo = bus.listen('a', heard.record);

    bus.notify({ jobId: 'a', what: 'output' });
    await settle();
    expect(heard.seen).toHaveLength(2);

    stopOne();
    expect(bus.listenedJobs).toBe(1);
    stopTwo();
    expect(bus.listenedJobs).toBe(0);
  });

  it('gives each listener its own copy of the notice', async () => {
    const bus = new InProcessJobNoticeBus();
    const notice: JobNotice = { jobId: 'a', what: 'output' };
    const received: JobNotice[] = [];
    bus.listen('a', (n) => received.push(n));
    bus.listen('a', (n) => received.push(n));

    bus.notify(notice);
    await settle();

    expect(received).toEqual([notice, notice]);
    expect(received[0]).not.toBe(notice);
    expect(received[0]).not.toBe(received[1]);
  });

  it('once closed: notify and listen do nothing', async () => {
    const bus = new InProcessJobNoticeBus();
    const heard = recorder<JobNotice>();
    bus.listen('a', heard.record);
    bus.notify({ jobId: 'a', what: 'output' });

    await bus.close();
    await bus.close(); // idempotent
    await settle();

    expect(heard.seen).toEqual([]); // pending deliveries are dropped too
    expect(() => bus.listen('a', heard.record)()).not.toThrow();
    bus.notify({ jobId: 'a', what: 'output' });
    await settle();
    expect(heard.seen).toEqual([]);
  });
});
