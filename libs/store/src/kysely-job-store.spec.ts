import { JobKind, JobOutcome, JobSpec, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { createJobStore } from './create-job-store';
import { JobStore, NewJob } from './job-store';
import { STORE_BACKENDS, StoreLocation } from './testing/store-backends';

jest.setTimeout(30_000);

const commandSpec: JobSpec = {
  kind: JobKind.Command,
  inventoryPath: '/srv/inventories/prod.ini',
  hostPattern: 'web*',
  module: 'shell',
  moduleArgs: { cmd: 'echo "héllo ✓"', chdir: '/tmp' },
  extraVars: { nested: { list: [1, 'two', null, true] }, quote: "it's \"quoted\"" },
  forks: 5,
  become: true,
};

const gitSpec: JobSpec = { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false };

const failed: JobOutcome = { status: JobStatus.Failed, reason: 'ansible exited with 2', returnCode: 2 };
const successful: JobOutcome = { status: JobStatus.Successful, reason: null, returnCode: 0 };

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return { id: randomUUID(), submittedBy: 'alice', spec: commandSpec, createdAt: new Date(), ...overrides };
}

describe.each(STORE_BACKENDS)('KyselyJobStore on $name', (backend) => {
  let location: StoreLocation;
  let store: JobStore;
  /** A second store on the same database: its own connection(s), like another process. */
  let other: JobStore;

  beforeAll(async () => {
    location = await backend.fresh();
    store = createJobStore(location.config);
    await store.migrate();
    other = createJobStore(location.config);
    await other.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await other?.close();
    await location?.dispose();
  });

  it('round-trips a job: spec JSON, derived columns and dates to the millisecond', async () => {
    const job = newJob({ createdAt: new Date('2024-02-29T23:59:58.123Z') });
    await store.createJob(job);

    const found = await other.findJob(job.id);
    expect(found).toEqual({
      id: job.id,
      kind: JobKind.Command,
      status: JobStatus.Queued,
      reason: null,
      returnCode: null,
      submittedBy: 'alice',
      inventory: '/srv/inventories/prod.ini',
      spec: commandSpec,
      runnerId: null,
      createdAt: new Date('2024-02-29T23:59:58.123Z'),
      startedAt: null,
      finishedAt: null,
    });
    expect(found?.createdAt).toBeInstanceOf(Date);

    const git = newJob({ spec: gitSpec });
    await store.createJob(git);
    expect(await store.findJob(git.id)).toMatchObject({ kind: JobKind.Git, inventory: null, spec: gitSpec });
  });

  it('finds nothing for an unknown id', async () => {
    expect(await store.findJob(randomUUID())).toBeUndefined();
  });

  it('refuses a second job with the same id', async () => {
    const job = newJob();
    await store.createJob(job);
    // Matched on the message, not toThrow(): under jest workers better-sqlite3's errors can come
    // from another test file's realm and fail `instanceof Error`.
    await expect(store.createJob(job)).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
  });

  it('records the claim and the outcome with their times', async () => {
    const job = newJob();
    await store.createJob(job);
    const startedAt = new Date('2030-01-01T00:00:01.001Z');
    const finishedAt = new Date('2030-01-01T00:00:09.999Z');

    expect(await store.claimJob(job.id, 'runner-a', startedAt)).toBe(true);
    expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Running, runnerId: 'runner-a', startedAt });

    expect(await store.completeJob(job.id, failed, finishedAt)).toBe(true);
    expect(await store.findJob(job.id)).toMatchObject({
      status: JobStatus.Failed,
      reason: 'ansible exited with 2',
      returnCode: 2,
      runnerId: 'runner-a',
      startedAt,
      finishedAt,
    });
  });

  it('lets exactly one of two concurrent claims win, every time', async () => {
    for (let round = 0; round < 25; round++) {
      const job = newJob();
      await store.createJob(job);
      const [a, b] = await Promise.all([
        store.claimJob(job.id, 'runner-a', new Date()),
        other.claimJob(job.id, 'runner-b', new Date()),
      ]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect((await store.findJob(job.id))?.runnerId).toBe(a ? 'runner-a' : 'runner-b');
    }
  });

  it('does not claim a job that is running, finished or missing', async () => {
    const job = newJob();
    await store.createJob(job);
    expect(await store.claimJob(job.id, 'runner-a', new Date())).toBe(true);
    expect(await store.claimJob(job.id, 'runner-b', new Date())).toBe(false);
    expect((await store.findJob(job.id))?.runnerId).toBe('runner-a');

    const canceled = newJob();
    await store.createJob(canceled);
    const canceledOutcome: JobOutcome = { status: JobStatus.Canceled, reason: 'canceled by alice', returnCode: null };
    expect(await store.completeJob(canceled.id, canceledOutcome, new Date())).toBe(true);
    expect(await store.claimJob(canceled.id, 'runner-a', new Date())).toBe(false);
    expect(await store.findJob(canceled.id)).toMatchObject({ status: JobStatus.Canceled, runnerId: null, startedAt: null });

    expect(await store.claimJob(randomUUID(), 'runner-a', new Date())).toBe(false);
  });

  it('never moves a job out of a terminal state', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.claimJob(job.id, 'runner-a', new Date());
    const finishedAt = new Date('2031-05-05T05:05:05.505Z');
    expect(await store.completeJob(job.id, successful, finishedAt)).toBe(true);

    const lost: JobOutcome = { status: JobStatus.Error, reason: 'runner lost', returnCode: null };
    expect(await store.completeJob(job.id, lost, new Date())).toBe(false);
    expect(await other.completeJob(job.id, failed, new Date())).toBe(false);
    expect(await store.findJob(job.id)).toMatchObject({
      status: JobStatus.Successful,
      reason: null,
      returnCode: 0,
      finishedAt,
    });

    expect(await store.completeJob(randomUUID(), lost, new Date())).toBe(false);
  });

  it('lets exactly one of two concurrent completions win', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.claimJob(job.id, 'runner-a', new Date());
    const timedOut: JobOutcome = { status: JobStatus.TimedOut, reason: 'timed out after 10 s', returnCode: null };
    const results = await Promise.all([
      store.completeJob(job.id, timedOut, new Date()),
      other.completeJob(job.id, failed, new Date()),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.findJob(job.id))?.status).toBe(results[0] ? JobStatus.TimedOut : JobStatus.Failed);
  });

  it('reads back output in append order over many batches, kept apart per job', async () => {
    const first = newJob();
    const second = newJob();
    await store.createJob(first);
    await store.createJob(second);
    expect(await store.readOutput(first.id)).toBe('');

    const expectedFirst: string[] = [];
    const expectedSecond: string[] = [];
    for (let i = 0; i < 300; i++) {
      const line = `line ${i} ✓ ${'x'.repeat(i % 17)}\n`;
      // Alternate writers and connections so ids from both jobs interleave.
      await (i % 2 ? other : store).appendOutput(first.id, line);
      expectedFirst.push(line);
      if (i % 3 === 0) {
        await store.appendOutput(second.id, `second ${i}\n`);
        expectedSecond.push(`second ${i}\n`);
      }
    }
    await store.appendOutput(first.id, '');

    expect(await store.readOutput(first.id)).toBe(expectedFirst.join(''));
    expect(await other.readOutput(second.id)).toBe(expectedSecond.join(''));
    expect(await store.readOutput(randomUUID())).toBe('');
  });

  it('stores output and reasons containing NUL (replaced, as PostgreSQL cannot hold it)', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.appendOutput(job.id, 'a\0b');
    expect(await store.readOutput(job.id)).toBe('a\uFFFDb');
    await store.completeJob(job.id, { status: JobStatus.Error, reason: 'bad\0byte', returnCode: null }, new Date());
    expect((await store.findJob(job.id))?.reason).toBe('bad\uFFFDbyte');
  });

  it('rejects output for a job that does not exist', async () => {
    await expect(store.appendOutput(randomUUID(), 'orphan')).rejects.toMatchObject({
      message: expect.stringMatching(/foreign key/i),
    });
  });

  it('deletes a job together with its output', async () => {
    const job = newJob();
    const kept = newJob();
    await store.createJob(job);
    await store.createJob(kept);
    await store.appendOutput(job.id, 'one\n');
    await store.appendOutput(job.id, 'two\n');
    await store.appendOutput(kept.id, 'kept\n');

    await store.deleteJob(job.id);
    expect(await store.findJob(job.id)).toBeUndefined();
    // Re-creating the same id proves no orphaned output rows were left behind.
    await store.createJob(job);
    expect(await store.readOutput(job.id)).toBe('');
    expect(await store.readOutput(kept.id)).toBe('kept\n');

    await expect(store.deleteJob(randomUUID())).resolves.toBeUndefined();
  });

  it('finds jobs by status, oldest first', async () => {
    // A submitter of its own so rows from other scenarios in this database are told apart.
    const submittedBy = `lister-${randomUUID()}`;
    const at = (s: number) => new Date(Date.UTC(2020, 0, 1, 0, 0, s));
    const late = newJob({ submittedBy, createdAt: at(30) });
    const early = newJob({ submittedBy, createdAt: at(10) });
    const middle = newJob({ submittedBy, createdAt: at(20) });
    const done = newJob({ submittedBy, createdAt: at(5) });
    // Inserted out of order: the order must come from createdAt.
    for (const job of [late, early, middle, done]) await store.createJob(job);
    await store.claimJob(middle.id, 'runner-a', new Date());
    await store.completeJob(done.id, failed, new Date());

    const ours = (records: { submittedBy: string; id: string }[]) =>
      records.filter((r) => r.submittedBy === submittedBy).map((r) => r.id);

    expect(ours(await store.findJobsByStatus([JobStatus.Queued, JobStatus.Running]))).toEqual([
      early.id,
      middle.id,
      late.id,
    ]);
    expect(ours(await store.findJobsByStatus([JobStatus.Running]))).toEqual([middle.id]);
    expect(ours(await store.findJobsByStatus([JobStatus.Failed, JobStatus.Successful]))).toEqual([done.id]);
    expect(await store.findJobsByStatus([])).toEqual([]);

    const all = await store.findJobsByStatus([JobStatus.Queued, JobStatus.Running]);
    const times = all.map((r) => r.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('treats migrate() on a migrated database as a no-op that keeps the data', async () => {
    const job = newJob();
    await store.createJob(job);
    await store.appendOutput(job.id, 'kept');
    await store.migrate();
    await other.migrate();
    const again = createJobStore(location.config);
    try {
      await again.migrate();
      expect(await again.findJob(job.id)).toMatchObject({ id: job.id, status: JobStatus.Queued });
      expect(await again.readOutput(job.id)).toBe('kept');
    } finally {
      await again.close();
    }
  });

  it('can be closed more than once', async () => {
    const spare = createJobStore(location.config);
    await spare.migrate();
    await spare.close();
    await expect(spare.close()).resolves.toBeUndefined();
    await expect(spare.findJob('x')).rejects.toMatchObject({ message: expect.stringMatching(/destroyed/i) });
  });
});

describe.each(STORE_BACKENDS)('migrate() on a fresh $name database', (backend) => {
  let location: StoreLocation;
  afterEach(async () => location?.dispose());

  it('lets two concurrent migrations on one store both succeed', async () => {
    location = await backend.fresh();
    const store = createJobStore(location.config);
    try {
      await Promise.all([store.migrate(), store.migrate()]);
      const job = newJob();
      await store.createJob(job);
      expect(await store.claimJob(job.id, 'runner-a', new Date())).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('migrate() on a fresh PostgreSQL database from several processes', () => {
  let location: StoreLocation;
  afterAll(async () => location?.dispose());

  it('lets concurrent migrations from separate connection pools all succeed', async () => {
    location = await STORE_BACKENDS.find((b) => b.name === 'PostgreSQL')!.fresh();
    // Separate pools stand in for separate gateway and runner processes starting together.
    const stores = Array.from({ length: 4 }, () => createJobStore(location.config));
    try {
      const results = await Promise.allSettled(stores.map((s) => s.migrate()));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      const job = newJob();
      await stores[0].createJob(job);
      await stores[3].appendOutput(job.id, 'ok');
      expect(await stores[1].readOutput(job.id)).toBe('ok');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
