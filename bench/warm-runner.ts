/**
 * BENCH_ONLY=warm-runner: the warm runner against Ansible run by hand, in the same run.
 * - ping end to end through the API (submit -> terminal status seen by the client), warm and
 *   cold, against `ansible localhost -m ping` (target warm <= 0.55x), in both deployments;
 * - 40 pings submitted at once to one runner with concurrency 4, against the CLI run 40 times,
 *   4 at a time (target warm throughput >= 1.8x);
 * - a playbook printing 5,000 loop items, against `ansible-playbook` (target warm <= 1.0x);
 * - the fork server's memory (RSS).
 * Rounds alternate CLI, warm and cold, to spread the machine's noise over all three.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, DeploymentKind } from '../test/support/deployment';
import { median, ms, ROUNDS, run } from './measure';

const CLI_ENV = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };
const LOOP_ITEMS = 5_000;
const LOOP_PLAYBOOK = `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: "item {{ item }}"\n      loop: "{{ range(${LOOP_ITEMS}) | list }}"\n`;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Submits a job and polls its status every `pollMs` until it ends. 10 ms for a single short job
 * (the end is seen within 10 ms); the runs of many or long jobs poll every 100 ms, as a portal
 * polling faster would spend the CPU the jobs are measured on (40 clients at 10 ms: 4,000 req/s).
 */
async function apiJob(deployment: Deployment, path: string, body: object, pollMs = 10): Promise<void> {
  const id = await deployment.api.submit(path, body);
  for (;;) {
    const status = await deployment.api.status(id);
    if (status.Status !== 'PROGRESS') {
      if (status.Status !== 'SUCCESS') throw new Error(`job ${id} ended ${status.Status}: ${status.description}`);
      return;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

const apiPing = (deployment: Deployment, pollMs?: number) => apiJob(deployment, '/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' }, pollMs);
const cliPing = (inventory: string) => run('ansible', [`--inventory=${inventory}`, '--module-name=ping', '--', 'localhost'], { env: CLI_ENV });

/** `count` jobs, at most `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, job: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) await job();
  }));
}

/** RSS of the fork servers below `pid` (the process that runs the jobs), in MiB. */
function forkServerRss(pid: number): number {
  let kib = 0;
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('flansible_forkserver.py') && Number(/PPid:\s+(\d+)/.exec(status)?.[1]) === pid) {
        kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      }
    } catch {
      // ended meanwhile
    }
  }
  return kib / 1024;
}

async function startPair(kind: DeploymentKind, runnerConcurrency: number): Promise<{ warm: Deployment; cold: Deployment }> {
  const warm = await Deployment.start(kind, { runners: 1, runnerConcurrency, env: { FLANSIBLE_WARM_RUNNER: 'true' } });
  const cold = await Deployment.start(kind, { runners: 1, runnerConcurrency, env: { FLANSIBLE_WARM_RUNNER: 'false' } });
  await jobRunner(warm).waitForLog(/Warm runner ready/, 60_000);
  return { warm, cold };
}

const jobRunner = (deployment: Deployment) => (deployment.kind === 'distributed' ? deployment.runners[0] : deployment.gateway);

async function benchPing(kind: DeploymentKind): Promise<void> {
  const { warm, cold } = await startPair(kind, 2);
  try {
    const inventory = join(warm.fixture.inventoryRoot, 'localhost');
    await Promise.all([cliPing(inventory), apiPing(warm), apiPing(cold)].map((p) => p.catch(() => undefined))); // caches
    const cli: number[] = [];
    const warmTimes: number[] = [];
    const coldTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      cli.push(await timed(() => cliPing(inventory)));
      warmTimes.push(await timed(() => apiPing(warm)));
      coldTimes.push(await timed(() => apiPing(cold)));
    }
    const base = median(cli);
    console.log(
      `[${kind}] ping end to end: CLI median ${ms(base)}; warm ${ms(median(warmTimes))} = ${(median(warmTimes) / base).toFixed(3)}x (target <= 0.55x); ` +
        `cold ${ms(median(coldTimes))} = ${(median(coldTimes) / base).toFixed(3)}x; fork server RSS ${forkServerRss(jobRunner(warm).pid).toFixed(0)} MiB`,
    );
  } finally {
    await Promise.all([warm.stop(), cold.stop()]);
  }
}

async function benchThroughput(): Promise<void> {
  const jobs = 40;
  const concurrency = 4;
  const { warm, cold } = await startPair('distributed', concurrency);
  try {
    const inventory = join(warm.fixture.inventoryRoot, 'localhost');
    const all = (deployment: Deployment) => Promise.all(Array.from({ length: jobs }, () => apiPing(deployment, 100)));
    const cli = await timed(() => inParallel(jobs, concurrency, () => cliPing(inventory)));
    const warmTime = await timed(() => all(warm));
    const coldTime = await timed(() => all(cold));
    const rate = (t: number) => (jobs / t) * 1000;
    console.log(
      `[throughput] ${jobs} pings, one runner of concurrency ${concurrency}: CLI 4 at a time ${rate(cli).toFixed(2)} jobs/s; ` +
        `warm ${rate(warmTime).toFixed(2)} jobs/s = ${(cli / warmTime).toFixed(2)}x (target >= 1.8x); cold ${rate(coldTime).toFixed(2)} jobs/s = ${(cli / coldTime).toFixed(2)}x; ` +
        `fork server RSS ${forkServerRss(jobRunner(warm).pid).toFixed(0)} MiB`,
    );
  } finally {
    await Promise.all([warm.stop(), cold.stop()]);
  }
}

async function benchLoop(): Promise<void> {
  const { warm, cold } = await startPair('embedded', 2);
  try {
    const inventory = join(warm.fixture.inventoryRoot, 'localhost');
    for (const deployment of [warm, cold]) writeFileSync(join(deployment.fixture.playbookRoot, 'app', 'loop5000.yml'), LOOP_PLAYBOOK);
    const playbook = join(warm.fixture.playbookRoot, 'app', 'loop5000.yml');
    const cliLoop = () => run('ansible-playbook', [`--inventory=${inventory}`, '--', playbook], { env: CLI_ENV, maxBuffer: 64 << 20 });
    const apiLoop = (deployment: Deployment) => apiJob(deployment, '/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'loop5000.yml' }, 100);
    const rounds = Math.max(3, Math.ceil(ROUNDS / 3));
    const cli: number[] = [];
    const warmTimes: number[] = [];
    const coldTimes: number[] = [];
    for (let i = 0; i < rounds; i++) {
      cli.push(await timed(cliLoop));
      warmTimes.push(await timed(() => apiLoop(warm)));
      coldTimes.push(await timed(() => apiLoop(cold)));
    }
    const base = median(cli);
    console.log(
      `[loop] playbook printing ${LOOP_ITEMS} loop items (${rounds} rounds): ansible-playbook median ${ms(base)}; ` +
        `warm ${ms(median(warmTimes))} = ${(median(warmTimes) / base).toFixed(3)}x (target <= 1.0x); cold ${ms(median(coldTimes))} = ${(median(coldTimes) / base).toFixed(3)}x`,
    );
  } finally {
    await Promise.all([warm.stop(), cold.stop()]);
  }
}

export async function benchWarmRunner(): Promise<void> {
  for (const kind of ['embedded', 'distributed'] as const) await benchPing(kind);
  await benchThroughput();
  await benchLoop();
}
