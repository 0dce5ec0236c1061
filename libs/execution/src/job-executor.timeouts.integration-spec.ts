import { LaunchPath } from '@flansible/contracts';
import { readdir, readFile } from 'node:fs/promises';
import { JobInterruption } from './job-executor';
import { processGroupIsAlive } from './process-runner';
import { play, useJobExecutor } from './testing/job-executor-harness';

// Margins are wide: on a loaded 2-core CI machine a cold Ansible has taken over 5 s to reach its first task.
jest.setTimeout(60_000);

/** Live (non-zombie) processes whose command line contains `text`. */
async function processesRunning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3), () => 'X');
    if (cmdline.replace(/\0/g, ' ').includes(text) && state !== 'Z' && state !== 'X') found.push(Number(pid));
  }
  return found;
}

/** The job's timeout and idle timeout: each stops the whole process tree, forked warm or started cold. */
describe.each([LaunchPath.Warm, LaunchPath.Cold])('JobExecutor with real Ansible on localhost, %s', (launch) => {
  const { sandbox, execute, command, playbook } = useJobExecutor({ warmRunner: launch === LaunchPath.Warm });

  it('on timeout stops the whole process tree, grandchildren included', async () => {
    const marker = '301.4567';
    const path = await sandbox().writePlaybook('hang.yml', play(`command: sleep ${marker}`));
    let pgid = 0;
    let sawSleep = false;
    let looking = false;
    // Scans /proc until the sleep is seen, one scan at a time (each reads every process's files).
    const watcher = setInterval(async () => {
      if (sawSleep || looking) return;
      looking = true;
      sawSleep = (await processesRunning(`sleep ${marker}`)).length > 0;
      looking = false;
    }, 100);
    const { outcome, launchPath } = await execute(playbook(path), {
      timeoutSeconds: 15,
      killGraceMs: 1_000,
      onSpawn: (pid) => (pgid = pid),
    }).finally(() => clearInterval(watcher));
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 15 s', returnCode: null });
    expect(launchPath).toBe(launch);
    expect(sawSleep).toBe(true);
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('stops a job whose output stays silent for the idle timeout, as timed_out, leaving nothing behind', async () => {
    const marker = '302.4567';
    const path = await sandbox().writePlaybook('idle.yml', play('debug: msg="before-the-silence"', `command: sleep ${marker}`));
    let pgid = 0;
    const { outcome, output, launchPath } = await execute(playbook(path), {
      idleTimeoutSeconds: 10,
      killGraceMs: 1_000,
      onSpawn: (pid) => (pgid = pid),
    });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'No output for 10 s', returnCode: null });
    expect(launchPath).toBe(launch);
    expect(output).toContain('before-the-silence');
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('stops the whole process tree of a canceled job, with the cancel’s outcome', async () => {
    const marker = '305.4567';
    const path = await sandbox().writePlaybook('cancel.yml', play(`command: sleep ${marker}`));
    const abort = new AbortController();
    const watcher = setInterval(async () => {
      if ((await processesRunning(`sleep ${marker}`)).length) abort.abort(new JobInterruption('canceled', 'Canceled by alice'));
    }, 100);
    let pgid = 0;
    const { outcome, launchPath } = await execute(playbook(path), {
      signal: abort.signal,
      killGraceMs: 1_000,
      onSpawn: (pid) => (pgid = pid),
    }).finally(() => clearInterval(watcher));
    expect(outcome).toEqual({ status: 'canceled', reason: 'Canceled by alice', returnCode: null });
    expect(launchPath).toBe(launch);
    expect(await processGroupIsAlive(pgid)).toBe(false);
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('takes the job’s own timeout when it is below the configured one', async () => {
    const marker = '303.4567';
    const path = await sandbox().writePlaybook('own-timeout.yml', play(`command: sleep ${marker}`));
    expect(sandbox().config.taskTimeoutSeconds).toBe(120);
    const { outcome } = await execute(playbook(path, { timeoutSeconds: 3 }), { killGraceMs: 1_000 });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 3 s', returnCode: null });
    expect(await processesRunning(`sleep ${marker}`)).toEqual([]);
  });

  it('caps the job’s own timeout at the configured one', async () => {
    const marker = '304.4567';
    const path = await sandbox().writePlaybook('capped-timeout.yml', play(`command: sleep ${marker}`));
    const { outcome } = await execute(playbook(path, { timeoutSeconds: 3_600 }), { timeoutSeconds: 3, killGraceMs: 1_000 });
    expect(outcome).toEqual({ status: 'timed_out', reason: 'Task timed out after 3 s', returnCode: null });
  });

  it('refuses a timeout that is not a whole number of seconds', async () => {
    const { outcome, spawned } = await execute(command({ timeoutSeconds: 0 }));
    expect(outcome).toEqual({ status: 'error', reason: 'timeoutSeconds must be a whole number from 1 to 604800', returnCode: null });
    expect(spawned).toEqual([]);
  });
});
