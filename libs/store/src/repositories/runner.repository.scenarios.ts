import { JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { JobStore } from '../job-store';
import { newJob, successful } from '../testing/job-fixtures';
import { StoreBackend, withMigratedStores } from '../testing/store-backends';

/** RunnerRepository: heartbeats, lost runners and their jobs. */
export function describeRunnerRepository(backend: StoreBackend): void {
  describe(`runner heartbeats on ${backend.name}`, () => {
    let store: JobStore;
    /** A second store on the same database: its own connection(s), like another process. */
    let other: JobStore;
    withMigratedStores(backend, (opened) => ({ store, other } = opened));

    const t = (s: number) => new Date(Date.UTC(2033, 0, 1, 0, 0, s));

    it('fails the running jobs of runners that stopped beating or never did, and no others', async () => {
      const alive = `alive-${randomUUID()}`;
      const stale = `stale-${randomUUID()}`;
      const gone = `gone-${randomUUID()}`;
      const unknown = `unknown-${randomUUID()}`;
      await store.recordHeartbeat(alive, t(0));
      await store.recordHeartbeat(stale, t(0));
      await store.recordHeartbeat(gone, t(0));
      // Upsert: a later beat moves the runner's time on.
      await other.recordHeartbeat(alive, t(50));
      await store.recordHeartbeat(gone, t(50));
      await store.removeRunner(gone);
      await store.removeRunner(`never-${randomUUID()}`);

      const jobOn = async (runner: string) => {
        const job = newJob();
        await store.createJob(job);
        await store.claimJob(job.id, runner, t(1));
        return job.id;
      };
      const onAlive = await jobOn(alive);
      const onStale = await jobOn(stale);
      const onGone = await jobOn(gone);
      const onUnknown = await jobOn(unknown);
      const finishedOnStale = await jobOn(stale);
      await store.completeJob(finishedOnStale, successful, t(2));
      const queued = newJob();
      await store.createJob(queued);

      const lost = await store.failJobsOfLostRunners(t(40), 'runner lost', t(60));
      expect(lost).toEqual(expect.arrayContaining([onStale, onGone, onUnknown]));
      expect(lost).not.toContain(onAlive);
      expect(lost).not.toContain(finishedOnStale);
      expect(lost).not.toContain(queued.id);

      expect(await store.findJob(onStale)).toMatchObject({ status: JobStatus.Error, reason: 'runner lost', finishedAt: t(60) });
      expect(await store.findJob(onAlive)).toMatchObject({ status: JobStatus.Running, reason: null });
      expect(await store.findJob(finishedOnStale)).toMatchObject({ status: JobStatus.Successful });
      expect(await store.findJob(queued.id)).toMatchObject({ status: JobStatus.Queued });
      // Terminal is final: a second sweep finds none of them again.
      const again = await other.failJobsOfLostRunners(t(40), 'runner lost again', t(70));
      expect(again).not.toEqual(expect.arrayContaining([onStale]));
      expect(await store.findJob(onStale)).toMatchObject({ reason: 'runner lost', finishedAt: t(60) });
    });

    it("names each job's own runner in the reason, and forgets runners long silent that no running job names", async () => {
      const silent = `silent-${randomUUID()}`;
      const holding = `holding-${randomUUID()}`;
      await store.recordHeartbeat(silent, t(0));
      await store.recordHeartbeat(holding, t(0));
      const job = newJob();
      await store.createJob(job);
      await store.claimJob(job.id, holding, t(1));
      // A job still running on it keeps a runner's row; the one with none goes.
      expect(await store.forgetSilentRunners(t(30))).toBeGreaterThanOrEqual(1);
      const [lost] = await store.failJobsOfLostRunners(t(40), 'Its runner {runner} was lost', t(60)).then((ids) => ids.filter((id) => id === job.id));
      expect(lost).toBe(job.id);
      expect(await store.findJob(job.id)).toMatchObject({ status: JobStatus.Error, reason: `Its runner ${holding} was lost` });
      expect(await other.forgetSilentRunners(t(30))).toBeGreaterThanOrEqual(1);
      expect(await store.forgetSilentRunners(t(30))).toBe(0);
    });

    it('lets exactly one of a sweep and a completion win', async () => {
      for (let round = 0; round < 10; round++) {
        const job = newJob();
        await store.createJob(job);
        await store.claimJob(job.id, `vanished-${randomUUID()}`, t(1));
        const [swept, completed] = await Promise.all([
          store.failJobsOfLostRunners(t(40), 'runner lost', t(60)),
          other.completeJob(job.id, successful, t(61)),
        ]);
        expect(swept.includes(job.id)).toBe(!completed);
        expect((await store.findJob(job.id))?.status).toBe(completed ? JobStatus.Successful : JobStatus.Error);
      }
    });
  });
}
