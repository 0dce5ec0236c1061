import { Deployment, DeploymentKind } from '../support/deployment';
import { DEVADMIN } from './hostile-input.cases';

const MAX_JOBS = 3;
/** 0.01 MiB: a small limit a few thousand lines of output pass. */
const MAX_OUTPUT_MB = '0.01';
const MAX_OUTPUT_BYTES = Math.floor(0.01 * 1024 * 1024);

/** The service's protective limits, the same in both deployments: jobs per user and output per job. */
export function describeResourceLimits(kind: DeploymentKind): void {
  describe(`resource limits (${kind})`, () => {
    const deployment = new Deployment(kind, {
      runners: 1,
      runnerConcurrency: 2,
      env: { FLANSIBLE_MAX_JOBS_PER_USER: String(MAX_JOBS), FLANSIBLE_MAX_OUTPUT_MB: MAX_OUTPUT_MB },
    });
    beforeAll(() => deployment.boot());
    afterAll(() => deployment.stop());

    it('answers 429 with Retry-After on every submission endpoint once a user has max_jobs_per_user jobs open, storing nothing', async () => {
      const api = deployment.api; // admin: the limit is for everyone
      const slow = { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 30 } };
      const open: string[] = [];
      for (let i = 0; i < MAX_JOBS; i++) open.push(await api.submit('/api/ansibleplaybook', slow));

      const before = await deployment.countJobs();
      const submissions: [string, unknown][] = [
        ['/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' }],
        ['/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'ok.yml' }],
        ['/api/git', { playbook_dir: 'repo' }],
        ['/api/v1/jobs/command', { host_pattern: 'localhost', module: 'ping' }],
        ['/api/v1/jobs/playbook', { playbook_dir: 'app', playbook: 'ok.yml' }],
      ];
      for (const [path, body] of submissions) {
        const res = await api.post(path, body);
        expect({ path, status: res.status, retryAfter: res.headers.get('retry-after'), body: res.body }).toEqual({
          path,
          status: 429,
          retryAfter: '30',
          body: {
            statusCode: 429,
            error: 'Too Many Requests',
            message: `User admin already has ${MAX_JOBS} jobs queued or running (max_jobs_per_user is ${MAX_JOBS}); try again once some have finished`,
          },
        });
      }
      expect(await deployment.countJobs()).toBe(before);

      // Another user has a limit of their own.
      const other = await deployment.api.as(DEVADMIN).post<{ task_id: string }>('/api/ansiblecommand', { host_pattern: 'all', inventory: 'dev', module: 'ping' });
      expect(other.status).toBe(200);

      // Finished jobs free their places.
      for (const id of open) await api.sdk.cancelJob(id);
      for (const id of open) await api.waitForTask(id, 30_000);
      const next = await api.post<{ task_id: string }>('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
      expect(next.status).toBe(200);
      expect(await api.waitForTask(next.body.task_id)).toMatchObject({ Status: 'SUCCESS' });
      expect(await api.waitForTask(other.body.task_id)).toMatchObject({ Status: 'SUCCESS' });
    });

    it('stores at most max_output_mb of a job’s output, runs the job to its end, and ends with one line saying what was dropped', async () => {
      const api = deployment.api;
      const job = await api.sdk.submitCommand({ host_pattern: 'localhost', module: 'command', module_args: 'seq 1 20000' });
      expect(await api.sdk.waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 })).toMatchObject({ status: 'successful', return_code: 0 });
      const output = await api.output(job.id);
      const lines = output.replace(/\n$/, '').split('\n');
      const notice = lines[lines.length - 1];
      expect(notice).toMatch(/^\[flansible\] output limit of 0\.01 MiB reached: \d+ lines \(\d+\.\d KiB\) not stored$/);
      const kept = output.slice(0, output.length - notice.length - 1);
      // Exactly the limit is stored; a newline is added before the notice when the cut fell inside a line.
      const cutInsideLine = Buffer.byteLength(kept) === MAX_OUTPUT_BYTES + 1;
      if (!cutInsideLine) expect(Buffer.byteLength(kept)).toBe(MAX_OUTPUT_BYTES);
      expect(kept).toContain('localhost | CHANGED | rc=0 >>\n1\n2\n3\n');
      expect(output).not.toContain('\n20000\n');
      // The dropped lines are what seq printed past the last number stored (a cut line counts as dropped).
      const lastWhole = Number(lines[lines.length - (cutInsideLine ? 3 : 2)]);
      expect(Number(/: (\d+) lines/.exec(notice)?.[1])).toBe(20000 - lastWhole);
      // The line API agrees with the text.
      expect((await api.sdk.getJob(job.id)).output_lines).toBe(lines.length);
    });
  });
}
