/**
 * npm run bench: end-to-end overhead of a ping job through the API against the same `ansible`
 * command run directly, in both deployments, and the status endpoint's throughput under 32
 * concurrent connections. Figures are ratios against a baseline taken in the same run, since
 * this shared 2-core machine is noisy.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '@flansible/auth';
import { Deployment, DeploymentKind } from '../test/support/deployment';
import { readJobStream } from '../test/support/sse-client';
import { median, ms, ROUNDS, run } from './measure';
import { benchStoreHistory } from './store-history';
import { benchWarmRunner } from './warm-runner';
import { benchWebhooks } from './webhooks';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ADMIN = { user: 'admin', password: 'admin' };

/**
 * Stream latency: a playbook prints its own clock (ms) in each of 60 loop items; the SSE client
 * notes when each line arrives. Same machine, same clock: the difference is print → client.
 */
async function streamLatency(deployment: Deployment): Promise<{ p50: number; p95: number; samples: number }> {
  deployment.fixture.writePlaybook(
    'bench/clock.yml',
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: clock\n      ansible.builtin.debug:\n        msg: "CLOCK={{ lookup('pipe', 'date +%s%3N') }}"\n      loop: "{{ range(60) | list }}"\n      loop_control:\n        pause: 0.05\n`,
  );
  const res = await deployment.api.request<{ id: string }>('POST', '/api/v1/jobs/playbook', { json: { playbook_dir: 'bench', playbook: 'clock.yml' } });
  const latencies: number[] = [];
  await readJobStream(deployment.api.baseUrl, res.body.id, ADMIN, {
    onMessage: (message) => {
      if (message.event !== 'output') return;
      const now = Date.now();
      for (const line of (message.data as { lines: string[] }).lines) {
        const match = /CLOCK=(\d{13})/.exec(line);
        if (match) latencies.push(now - Number(match[1]));
      }
    },
  });
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), samples: latencies.length };
}

/** Random 1,000-line ranges of a 100,000-line output, and pages of events, through the API. */
async function rangeFetchTimes(deployment: Deployment): Promise<{ range: number[]; events: number[] }> {
  const api = deployment.api;
  const res = await api.request<{ id: string }>('POST', '/api/v1/jobs/command', {
    json: { host_pattern: 'localhost', module: 'command', module_args: 'seq 1 100000' },
  });
  const id = res.body.id;
  await api.waitForTask(id, 120_000);
  const events = await api.request<{ id: string }>('POST', '/api/v1/jobs/playbook', { json: { playbook_dir: 'app', playbook: 'events.yml' } });
  await api.waitForTask(events.body.id);
  const range: number[] = [];
  const eventPages: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = 1 + Math.floor(Math.random() * 99_000);
    let t = performance.now();
    const page = await api.get<{ lines: string[] }>(`/api/v1/jobs/${id}/output?start_line=${start}&end_line=${start + 999}`);
    range.push(performance.now() - t);
    if (page.body.lines.length !== 1000) throw new Error(`range ${start} returned ${page.body.lines.length} lines`);
    t = performance.now();
    await api.get(`/api/v1/jobs/${events.body.id}/events?after=${i % 5}&limit=100`);
    eventPages.push(performance.now() - t);
  }
  return { range, events: eventPages };
}

async function timeDirectPing(inventory: string): Promise<number> {
  const start = performance.now();
  await run('ansible', ['--inventory', inventory, '--module-name', 'ping', '--', 'localhost'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
  });
  return performance.now() - start;
}

/** A ping through the API; as a non-admin (devadmin on dev, `all`) it runs under the guard inside Ansible. */
async function timeApiPing(deployment: Deployment, as: 'admin' | 'guarded' = 'admin'): Promise<number> {
  const api = as === 'admin' ? deployment.api : deployment.api.as({ user: 'devadmin', password: 'devpassword' });
  const body = as === 'admin' ? { host_pattern: 'localhost', module: 'ping' } : { host_pattern: 'all', inventory: 'dev', module: 'ping' };
  const start = performance.now();
  const id = await api.submit('/api/ansiblecommand', body);
  for (;;) {
    const status = await api.status(id);
    if (status.Status !== 'PROGRESS') {
      if (status.Status !== 'SUCCESS') throw new Error(`ping job ${id} ended ${status.Status}: ${status.description}`);
      return performance.now() - start;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function statusThroughput(deployment: Deployment): Promise<{ rps: number; p99: number }> {
  return statusRate(deployment, await finishedPing(deployment), Number(process.env.BENCH_SECONDS ?? 8));
}

async function finishedPing(deployment: Deployment): Promise<string> {
  const id = await deployment.api.submit('/api/ansiblecommand', { host_pattern: 'localhost', module: 'ping' });
  await deployment.api.waitForTask(id);
  return id;
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** GET /api/ansibletaskstatus/<id> under 32 connections for `seconds`. */
async function statusRate(deployment: Deployment, id: string, seconds: number): Promise<{ rps: number; p99: number; requests: number }> {
  const result = await autocannon({
    url: `${deployment.api.baseUrl}/api/ansibletaskstatus/${id}`,
    connections: 32,
    duration: seconds,
    headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
  });
  if (result.non2xx) throw new Error(`${result.non2xx} status requests failed: ${JSON.stringify(result.statusCodeStats)}`);
  return { rps: result.requests.average, p99: result.latency.p99, requests: result.requests.total };
}

async function benchDeployment(kind: DeploymentKind): Promise<void> {
  const deployment = await Deployment.start(kind, { runners: 1, runnerConcurrency: 2 });
  try {
    const inventory = join(deployment.fixture.inventoryRoot, 'localhost');
    await timeDirectPing(inventory); // warm caches for both
    await timeApiPing(deployment);
    await timeApiPing(deployment, 'guarded');
    const direct: number[] = [];
    const api: number[] = [];
    const guarded: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      direct.push(await timeDirectPing(inventory));
      api.push(await timeApiPing(deployment));
      guarded.push(await timeApiPing(deployment, 'guarded'));
    }
    const ratio = median(api) / median(direct);
    console.log(`[${kind}] ping: direct CLI median ${ms(median(direct))}, through the API median ${ms(median(api))}, ratio ${ratio.toFixed(3)}x (target <= 1.10x)`);
    console.log(
      `[${kind}] ping as a non-admin (guard inside Ansible): median ${ms(median(guarded))}, ratio to the CLI ${(median(guarded) / median(direct)).toFixed(3)}x, to an admin's ${(median(guarded) / median(api)).toFixed(3)}x`,
    );
    const { rps, p99 } = await statusThroughput(deployment);
    console.log(`[${kind}] GET /api/ansibletaskstatus, 32 connections: ${rps.toFixed(0)} req/s, p99 ${p99} ms`);
    const stream = await streamLatency(deployment);
    console.log(`[${kind}] SSE line latency (print -> client), ${stream.samples} lines: p50 ${ms(stream.p50)}, p95 ${ms(stream.p95)} (target p95 <= 100 ms)`);
    const fetches = await rangeFetchTimes(deployment);
    console.log(
      `[${kind}] 1,000-line range of a 100,000-line output: p50 ${percentile(fetches.range, 50).toFixed(1)} ms, p95 ${percentile(fetches.range, 95).toFixed(1)} ms; events page: p50 ${percentile(fetches.events, 50).toFixed(1)} ms, p95 ${percentile(fetches.events, 95).toFixed(1)} ms`,
    );
  } finally {
    await deployment.stop();
  }
}

/**
 * The status endpoint's rate with a scrypt hash in rbac.json against a plaintext password: the
 * remembered successful check must keep it within 10%. Alternated to spread the machine's noise.
 */
async function benchPasswordHashing(): Promise<void> {
  const plaintext = [{ user: 'admin', password: 'admin', inventories: [] }];
  const hashed = [{ user: 'admin', password: await hashPassword('admin'), inventories: [] }];
  const rates: Record<'plaintext' | 'hashed', number[]> = { plaintext: [], hashed: [] };
  for (let round = 0; round < 2; round++) {
    for (const [name, rbac] of [['plaintext', plaintext], ['hashed', hashed]] as const) {
      const deployment = await Deployment.start('embedded', { rbac });
      try {
        rates[name].push((await statusThroughput(deployment)).rps);
      } finally {
        await deployment.stop();
      }
    }
  }
  const plain = median(rates.plaintext);
  const hash = median(rates.hashed);
  console.log(
    `[auth] status rate with plaintext rbac.json ${plain.toFixed(0)} req/s, with a scrypt hash ${hash.toFixed(0)} req/s: ratio ${(hash / plain).toFixed(3)} (target >= 0.90)`,
  );
}

/**
 * The status endpoint's rate with metrics on (the default: the HTTP timing middleware, the default
 * process metrics) against FLANSIBLE_METRICS=false (neither). Both deployments run side by side and
 * short runs alternate between them, so the machine's noise falls on both alike. Fresh pairs for
 * each batch: a remembered login lasts a minute, and when it expires under 32 connections the
 * logins in flight during the slow check trip the login throttle (429s).
 */
async function benchMetrics(): Promise<void> {
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  /** The gateway's CPU time per request: steadier than the rate on a machine others use too. */
  const cpu: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let batch = 0; batch < 2; batch++) {
    const deployments = {
      on: await Deployment.start('embedded', { env: { FLANSIBLE_METRICS: 'true' } }),
      off: await Deployment.start('embedded', { env: { FLANSIBLE_METRICS: 'false' } }),
    };
    try {
      const ids = { on: await finishedPing(deployments.on), off: await finishedPing(deployments.off) };
      for (const name of ['on', 'off'] as const) await statusRate(deployments[name], ids[name], 1); // warm up
      for (let round = 0; round < 5; round++) {
        const order = round % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const name of order) {
          const cpuBefore = cpuSeconds(deployments[name].gateway.pid);
          const { rps, requests } = await statusRate(deployments[name], ids[name], 3);
          rates[name].push(rps);
          cpu[name].push(((cpuSeconds(deployments[name].gateway.pid) - cpuBefore) / requests) * 1e6);
        }
      }
    } finally {
      await Promise.all([deployments.on.stop(), deployments.off.stop()]);
    }
  }
  const on = median(rates.on);
  const off = median(rates.off);
  const runs = (values: number[]) => values.map((r) => r.toFixed(0)).join(', ');
  console.log(
    `[metrics] status rate with metrics off ${off.toFixed(0)} req/s (${runs(rates.off)}), on ${on.toFixed(0)} req/s (${runs(rates.on)}): overhead ${((1 - on / off) * 100).toFixed(1)}% (target <= 5%)`,
  );
  const [cpuOn, cpuOff] = [median(cpu.on), median(cpu.off)];
  console.log(
    `[metrics] gateway CPU per status request: off ${cpuOff.toFixed(0)} µs, on ${cpuOn.toFixed(0)} µs (medians of ${cpu.on.length} runs each): overhead ${((cpuOn / cpuOff - 1) * 100).toFixed(1)}%`,
  );
}

/** Live (non-zombie) processes whose command line holds `text`. */
async function liveProcesses(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.replace(/\0/g, ' ').includes(text)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ')  Z');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(pid));
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** kill -9 of a runner running a playbook: how long until the last process of the job's tree is gone. */
async function benchRunnerDeath(): Promise<void> {
  const deployment = await Deployment.start('distributed', { runners: 1, runnerConcurrency: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const marker = `${400 + i}.875`;
      await deployment.api.submit('/api/ansibleplaybook', { playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: marker } });
      while ((await liveProcesses(`sleep ${marker}`)).length === 0) await new Promise((r) => setTimeout(r, 20));
      const tree = [...(await liveProcesses('flansible_launch.py')), ...(await liveProcesses(`sleep ${marker}`))];
      const killed = performance.now();
      await deployment.runners.at(-1)!.kill();
      while (tree.some(isAlive)) await new Promise((r) => setTimeout(r, 5));
      times.push(performance.now() - killed);
      await deployment.startRunner();
    }
    console.log(`[distributed] runner kill -9 -> last process of its job gone: median ${ms(median(times))}, max ${ms(Math.max(...times))} (${ROUNDS} runs)`);
  } finally {
    await deployment.stop();
  }
}

async function main(): Promise<void> {
  console.log(`Flansible bench: ${ROUNDS} rounds per deployment, node ${process.version}`);
  // BENCH_ONLY=runner-death (or deployments, auth, metrics, store-history, webhooks, warm-runner) runs one part.
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'deployments') for (const kind of ['embedded', 'distributed'] as const) await benchDeployment(kind);
  if (!only || only === 'auth') await benchPasswordHashing();
  if (!only || only === 'metrics') await benchMetrics();
  if (!only || only === 'runner-death') await benchRunnerDeath();
  if (!only || only === 'store-history') await benchStoreHistory();
  if (!only || only === 'webhooks') await benchWebhooks();
  if (!only || only === 'warm-runner') await benchWarmRunner();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
