import { JobRecord, RunnerJobStore } from '@flansible/store';
import { eventually } from '@flansible/testing';

/** For the runner specs: the job once `predicate` holds for it in the store (the last row seen on time-out). */
export function jobReaching(
  store: Pick<RunnerJobStore, 'findJob'>,
  jobId: string,
  predicate: (job: JobRecord) => boolean,
  timeoutMs = 20_000,
): Promise<JobRecord> {
  return eventually(
    async () => {
      const job = await store.findJob(jobId);
      if (job && predicate(job)) return job;
      throw new Error(`last seen ${JSON.stringify(job)}`);
    },
    `job ${jobId} to get there`,
    { timeoutMs, intervalMs: 25 },
  );
}
