/**
 * The gateway's CPU while many SSE streams follow one running job: opens STREAMS (1,000) streams
 * to a running job, then samples the gateway process's CPU time (utime + stime from
 * /proc/<pid>/stat) over SAMPLE_SECONDS (10) and times a few plain GETs meanwhile.
 *
 *   npm run build && node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/streams.ts [distributed|embedded] [quiet|talking]
 *
 * A quiet job (sleep) leaves only the streams' own store reads; a talking one (a playbook loop
 * printing five items a second) also sends notices, each of which makes the streams look again.
 * The distributed deployment (default) keeps Ansible out of the gateway process, so what is
 * measured is the gateway alone. max_streams_per_user is raised for the measurement.
 */
import { readFileSync } from 'node:fs';
import { ClientRequest, IncomingMessage, request } from 'node:http';
import { Deployment, DeploymentKind } from '../test/support/deployment';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1_000);
const SAMPLE_SECONDS = Number(process.env.BENCH_SAMPLE_SECONDS ?? 10);
const CLOCK_TICKS = 100; // USER_HZ on Linux
const TALKING_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: talk
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: "{{ range(1500) | list }}"
      loop_control:
        pause: 0.2
`;
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Opens one stream; resolves once its first bytes (the retry line) have arrived. */
function openStream(port: number, id: string): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/api/v1/jobs/${id}/stream`, agent: false, headers: { authorization: AUTH } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.once('data', () => resolve({ req, res }));
      res.on('data', () => undefined); // keep reading
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const kind = (process.argv[2] ?? 'distributed') as DeploymentKind;
  const job = process.argv[3] ?? 'quiet';
  const deployment = await Deployment.start(kind, {
    runners: 1,
    env: { FLANSIBLE_MAX_STREAMS_PER_USER: String(STREAMS), FLANSIBLE_MAX_STREAMS: String(STREAMS * 2), FLANSIBLE_IDLE_TIMEOUT: '0' },
  });
  const streams: { req: ClientRequest; res: IncomingMessage }[] = [];
  try {
    const api = deployment.api;
    const port = Number(new URL(api.baseUrl).port);
    deployment.fixture.writePlaybook('bench/talk.yml', TALKING_PLAYBOOK);
    const submitted =
      job === 'talking'
        ? await api.post<{ id: string }>('/api/v1/jobs/playbook', { playbook_dir: 'bench', playbook: 'talk.yml' })
        : await api.post<{ id: string }>('/api/v1/jobs/command', { host_pattern: 'localhost', module: 'command', module_args: 'sleep 300' });
    const id = submitted.body.id;
    for (let i = 0; (await api.get<{ status: string }>(`/api/v1/jobs/${id}`)).body.status !== 'running'; i++) {
      if (i > 300) throw new Error('the job did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let opened = 0; opened < STREAMS; opened += 100) {
      streams.push(...(await Promise.all(Array.from({ length: Math.min(100, STREAMS - opened) }, () => openStream(port, id)))));
    }
    await new Promise((r) => setTimeout(r, 2_000)); // let the openings settle

    const pid = deployment.gateway.pid;
    const before = cpuSeconds(pid);
    const started = performance.now();
    const latencies: number[] = [];
    const sampling = new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1_000));
    let sampled = false;
    void sampling.then(() => (sampled = true));
    while (!sampled) {
      const t = performance.now();
      await api.get(`/api/v1/jobs/${id}`);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 500));
    }
    await sampling;
    const cpu = cpuSeconds(pid) - before;
    const wall = (performance.now() - started) / 1_000;
    latencies.sort((a, b) => a - b);
    const median = latencies[latencies.length >> 1];
    console.log(
      `[${kind}, ${job} job] ${streams.length} open streams to one running job: gateway CPU ${cpu.toFixed(2)} s over ${wall.toFixed(1)} s ` +
        `= ${(cpu / wall).toFixed(3)} cores; GET /api/v1/jobs/<id> median ${median.toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms (${latencies.length} requests)`,
    );
    await api.post(`/api/v1/jobs/${id}/cancel`, {});
  } finally {
    for (const { req } of streams) req.destroy();
    await deployment.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
