import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { eventually } from './support/api-client';
import { Deployment, DeploymentKind } from './support/deployment';
import { FlansibleProcess } from './support/flansible-process';

jest.setTimeout(120_000);

/** Live processes (zombies aside) whose command line holds `marker`. */
function livePids(marker: string): number[] {
  let pids: string[];
  try {
    pids = execFileSync('pgrep', ['-f', marker]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return pids.map(Number).filter((pid) => {
    try {
      const stat = execFileSync('cat', [`/proc/${pid}/stat`]).toString();
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  });
}

/**
 * kill -9 of the process that runs the jobs (a runner, or the embedded gateway): the whole process
 * tree of every job it ran is gone within seconds, without help from any other process; the jobs
 * end error naming the runner; a queued job runs once, elsewhere or after the restart.
 */
describe.each<[DeploymentKind, 'warm' | 'cold']>([
  ['distributed', 'warm'],
  ['embedded', 'warm'],
  ['distributed', 'cold'],
])('a job dies with its runner (%s, %s)', (kind, launch) => {
  const deployment = new Deployment(kind, {
    runners: 1,
    runnerConcurrency: 2,
    env: { FLANSIBLE_HEARTBEAT_INTERVAL: '1', FLANSIBLE_RUNNER_LOST_AFTER: '3', FLANSIBLE_WARM_RUNNER: String(launch === 'warm') },
  });
  const book = `${Math.floor(100 + Math.random() * 800)}.375`;
  const shell = `${Math.floor(100 + Math.random() * 800)}.625`;

  beforeAll(() => deployment.boot());
  afterAll(async () => {
    // Nothing should be left; pkill exits 1 when it finds nothing.
    if (livePids(`sleep (${book}|${shell})`).length) execFileSync('pkill', ['-f', `sleep (${book}|${shell})`]);
    await deployment.stop();
  }, 60_000);

  it('leaves no process of its playbook and ad-hoc jobs behind, and says which runner was lost', async () => {
    const api = deployment.api;
    const victim: FlansibleProcess = kind === 'distributed' ? deployment.runners[0] : deployment.gateway;
    // Warm: the jobs are forked by the fork server, so it must be ready before they are submitted.
    if (launch === 'warm') await victim.waitForLog(/Warm runner ready/);
    const playbook = await api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: book } });
    const adhoc = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'shell', module_args: `sleep ${shell}; echo never` });
    await eventually(async () => livePids(`sleep ${book}`).length > 0 && livePids(`sleep ${shell}`).length > 0, 'both jobs to run their sleep');
    const queued = await api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
    // Every process of both jobs: the launchers (cold) or the forked supervisors (warm: they keep
    // the fork server's command line, and the server itself must go too), Ansible, its workers, the
    // modules and the sleeps.
    const mine = descendantsOf(victim.pid);
    const launchers = livePids('flansible_launch.py').filter((pid) => mine.has(pid));
    const forked = livePids('flansible_forkserver.py').filter((pid) => mine.has(pid));
    if (launch === 'warm') expect({ launchers: launchers.length, forked: forked.length >= 5 }).toEqual({ launchers: 0, forked: true });
    else expect({ launchers: launchers.length >= 4, forked: forked.length }).toEqual({ launchers: true, forked: 0 });
    const tree = [...launchers, ...forked, ...livePids(`sleep ${book}`), ...livePids(`sleep ${shell}`)];
    expect(tree.length).toBeGreaterThanOrEqual(6);

    const runnerId = (/Runner (\S+) consuming jobs/.exec(victim.logs) ?? [])[1];
    expect(runnerId).toBeDefined();
    const killedAt = Date.now();
    await victim.kill();
    await eventually(async () => tree.every((pid) => !alive(pid)), 'the jobs\u2019 processes to be gone', 10_000);
    const goneAfter = Date.now() - killedAt;
    expect(goneAfter).toBeLessThan(5_000);

    if (kind === 'distributed') await deployment.startRunner();
    else await deployment.startGateway();
    for (const id of [playbook, adhoc]) {
      expect(await api.waitForTask(id, 60_000)).toMatchObject({ Status: 'FLANSIBLE_TASK_FAILURE', returncode: null });
      expect((await api.get(`/api/v1/jobs/${id}`)).body).toMatchObject({
        status: 'error',
        reason:
          kind === 'distributed'
            ? `Its runner ${runnerId} was lost (no heartbeat for 3 s); its processes were stopped with it`
            : `Its runner ${runnerId} stopped while the job was running (Flansible restarted); its processes were stopped with it`,
      });
    }
    expect(await api.waitForTask(queued, 60_000)).toMatchObject({ Status: 'SUCCESS' });
    expect((await api.output(playbook)).match(/slow-started-marker/g)).toHaveLength(1);
    expect(await api.output(adhoc)).not.toContain('never');
  });
});

/** The processes below `root` now (parents read from /proc). */
function descendantsOf(root: number): Set<number> {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended meanwhile
    }
  }
  const below = new Set<number>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!below.has(pid) && (ppid === root || below.has(ppid))) {
        below.add(pid);
        grew = true;
      }
    }
  }
  return below;
}

function alive(pid: number): boolean {
  try {
    const stat = execFileSync('cat', [`/proc/${pid}/stat`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
