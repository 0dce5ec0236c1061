import { AuthenticatedUser } from '@flansible/auth';
import { configWith } from '@flansible/config';
import { GatewayJobStore } from '@flansible/store';
import { JobLimitReachedError, JobQuotaService } from './job-quota.service';

const user = (name: string, isAdmin = false): AuthenticatedUser => ({ name, isAdmin, inventories: [], limits: { become: true, git: true, maxVerbosity: 1, diff: false } });

/** Open jobs per user; a create takes a moment, as a database insert does. */
function fakeStore(open: Map<string, number>): GatewayJobStore {
  return { countOpenJobs: async (name: string) => open.get(name) ?? 0 } as unknown as GatewayJobStore;
}

describe('JobQuotaService', () => {
  it('refuses a submission once the user has max_jobs_per_user jobs open, admins included', async () => {
    const open = new Map([['alice', 3], ['admin', 3]]);
    const quota = new JobQuotaService(configWith({ maxJobsPerUser: 3 }), fakeStore(open));
    const create = jest.fn(async () => 'created');
    for (const who of [user('alice'), user('admin', true)]) {
      const refused = await quota.withinLimit(who, create).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(JobLimitReachedError);
      expect(refused).toMatchObject({ retryAfterSeconds: 30, message: expect.stringMatching(/already has 3 jobs queued or running \(max_jobs_per_user is 3\)/) });
    }
    expect(create).not.toHaveBeenCalled();
    // Another user is not affected.
    await expect(quota.withinLimit(user('bob'), create)).resolves.toBe('created');
  });

  it('lets concurrent submissions of one user through only up to the limit', async () => {
    const open = new Map<string, number>();
    const quota = new JobQuotaService(configWith({ maxJobsPerUser: 2 }), fakeStore(open));
    const create = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      open.set('alice', (open.get('alice') ?? 0) + 1);
      return 'created';
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => quota.withinLimit(user('alice'), create)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof JobLimitReachedError)).toHaveLength(3);
    expect(open.get('alice')).toBe(2);
  });

  it('goes on after a failed create', async () => {
    const quota = new JobQuotaService(configWith({ maxJobsPerUser: 2 }), fakeStore(new Map()));
    await expect(quota.withinLimit(user('alice'), async () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    await expect(quota.withinLimit(user('alice'), async () => 'created')).resolves.toBe('created');
  });
});
