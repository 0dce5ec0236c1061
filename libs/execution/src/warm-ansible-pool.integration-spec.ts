import { LaunchPath } from '@flansible/contracts';
import { eventually } from '@flansible/testing';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCallbackPluginDir } from './callback-plugin';
import { buildChildEnv } from './child-env';
import { forkWarm } from './fork-server-client';
import { JobExecutor } from './job-executor';
import { AnsibleSandbox, createAnsibleSandbox } from './testing/ansible-sandbox';
import { play, startJobExecutor } from './testing/job-executor-harness';
import { WarmAnsiblePool } from './warm-ansible-pool';

jest.setTimeout(60_000);

/**
 * The warm runner's pool against real Ansible: which jobs fork warm, which run cold, and that a
 * fork server that dies, hangs or goes stale never fails a job.
 */
let sandbox: AnsibleSandbox;
let executor: JobExecutor;
let pool: WarmAnsiblePool;
let stop: () => Promise<void>;
let home: string;
const realHome = process.env.HOME;

beforeAll(async () => {
  // A HOME of its own, so the spec can change ~/.ansible.cfg.
  home = await mkdtemp(join(tmpdir(), 'flansible-warm-home-'));
  process.env.HOME = home;
  sandbox = await createAnsibleSandbox();
  // Short waits: a hung server is given up on after 1.5 s, and restarted at once.
  ({ executor, pool, stop } = await startJobExecutor(sandbox.config, { answerWithinMs: 1_500, restartDelaysMs: [100] }));
}, 90_000);
afterAll(async () => {
  await stop();
  await sandbox.dispose();
  process.env.HOME = realHome;
  await rm(home, { recursive: true, force: true });
});

async function run(spec: Parameters<JobExecutor['execute']>[0]) {
  const chunks: string[] = [];
  let launchPath: LaunchPath | null = null;
  const outcome = await executor.execute(spec, {
    appendOutput: async (chunk) => void chunks.push(chunk),
    appendEvents: async () => undefined,
    onLaunched: (path) => (launchPath = path),
  });
  return { outcome, output: chunks.join(''), launchPath };
}

const ping = () => ({ kind: 'command' as const, inventoryPath: sandbox.inventoryPath, hostPattern: 'localhost', module: 'ping' });

/** A ready server other than `pid`. */
const replacedSince = (pid: number) => pool.serverPids.length > 0 && !pool.serverPids.includes(pid);

const serverPid = async (): Promise<number> => {
  expect(await pool.whenReady(30_000)).toBe(true);
  return pool.serverPids[0];
};

describe('WarmAnsiblePool', () => {
  it('forks an ad-hoc command and a playbook warm, with the output of a cold run', async () => {
    const warm = await run(ping());
    expect(warm).toMatchObject({ outcome: { status: 'successful', returnCode: 0 }, launchPath: 'warm' });
    expect(warm.output).toMatch(/localhost \| SUCCESS => \{\n\s+"changed": false,\n\s+"ping": "pong"\n\}/);
    const path = await sandbox.writePlaybook('hello.yml', play('debug: msg="hello from {{ inventory_hostname }}"'));
    const playbook = await run({ kind: 'playbook', inventoryPath: sandbox.inventoryPath, playbookDir: sandbox.playbookDir, playbookPath: path });
    expect(playbook).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'warm' });
    expect(playbook.output).toContain('"msg": "hello from localhost"');
  });

  it('keeps the fork server’s socket in a directory only this user can enter', async () => {
    const pid = await serverPid();
    const dirs = (await readdir(tmpdir())).filter((name) => name.startsWith('flansible-warm-') && !name.startsWith('flansible-warm-home'));
    const modes = await Promise.all(dirs.map(async (dir) => (await stat(join(tmpdir(), dir))).mode & 0o777));
    expect(pid).toBeGreaterThan(0);
    expect(modes.length).toBeGreaterThan(0);
    expect(new Set(modes)).toEqual(new Set([0o700]));
  });

  it('runs a playbook cold when an ansible.cfg sits beside it, and it reads that file', async () => {
    const dir = join(sandbox.config.playbookRoot, 'own-config');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ansible.cfg'), '[defaults]\ndisplay_ok_hosts = False\n');
    const path = join(dir, 'quiet.yml');
    await writeFile(path, play('debug: msg="hidden by the config"'));
    const result = await run({ kind: 'playbook', inventoryPath: sandbox.inventoryPath, playbookDir: dir, playbookPath: path });
    expect(result).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'cold' });
    expect(result.output).not.toContain('hidden by the config');
  });

  it('declines, inside the forked child, a job whose configuration Ansible would read differently', async () => {
    // Past the runner's own checks (forkWarm directly): Ansible's own search finds ./ansible.cfg.
    const pid = await serverPid();
    const socketPath = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).pop()!;
    const dir = await mkdtemp(join(sandbox.root, 'cwd-config-'));
    await writeFile(join(dir, 'ansible.cfg'), '[defaults]\nforks = 7\n');
    const env = buildChildEnv(process.env, sandbox.config.dataDir, { callbackPluginDir: findCallbackPluginDir() });
    const request = { argv: ['ansible', '--version'], env, cwd: dir, events: false };
    await expect(forkWarm(socketPath, request, 5_000)).rejects.toMatchObject({
      message: expect.stringContaining(`its configuration file is ${join(dir, 'ansible.cfg')}`),
      serverAtFault: false,
    });
    expect(pool.serverPids).toEqual([pid]);
  });

  it('runs cold when ~/.ansible.cfg changed since the server started, then forks warm again from a new server', async () => {
    const before = await serverPid();
    await writeFile(join(home, '.ansible.cfg'), '[defaults]\ndisplay_ok_hosts = False\n');
    const path = await sandbox.writePlaybook('home-config.yml', play('debug: msg="quiet by the home config"'));
    const spec = { kind: 'playbook' as const, inventoryPath: sandbox.inventoryPath, playbookDir: sandbox.playbookDir, playbookPath: path };
    const cold = await run(spec);
    expect(cold).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'cold' });
    expect(cold.output).not.toContain('quiet by the home config');
    await eventually(() => replacedSince(before), 'a new fork server', 30_000);
    const warm = await run(spec);
    expect(warm).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'warm' });
    expect(warm.output).toBe(cold.output);
    await rm(join(home, '.ansible.cfg'));
  });

  it('runs the job cold when the server was killed, and a new server takes over', async () => {
    const before = await serverPid();
    process.kill(before, 'SIGKILL');
    await eventually(() => !pool.serverPids.includes(before), 'the pool to see its server gone');
    const during = await run(ping());
    expect(during.outcome).toMatchObject({ status: 'successful', returnCode: 0 });
    expect(await serverPid()).not.toBe(before);
    expect(await run(ping())).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'warm' });
  });

  it('gives up on a server that does not answer: the job runs cold and the server is replaced', async () => {
    const hung = await serverPid();
    process.kill(hung, 'SIGSTOP');
    try {
      const result = await run(ping());
      expect(result).toMatchObject({ outcome: { status: 'successful', returnCode: 0 }, launchPath: 'cold' });
      await eventually(() => replacedSince(hung), 'a new fork server', 30_000);
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // replaced: already gone
      }
    }
    expect(await run(ping())).toMatchObject({ outcome: { status: 'successful' }, launchPath: 'warm' });
  });

});

describe('WarmAnsiblePool switched off', () => {
  it('starts no server, and every job runs cold', async () => {
    const off = await createAnsibleSandbox({ warmRunner: false });
    const { executor: coldExecutor, pool: coldPool, stop: stopCold } = await startJobExecutor(off.config);
    try {
      expect(coldPool.serverPids).toEqual([]);
      let launchPath: LaunchPath | null = null;
      const outcome = await coldExecutor.execute(
        { kind: 'command', inventoryPath: off.inventoryPath, hostPattern: 'localhost', module: 'ping' },
        { appendOutput: async () => undefined, onLaunched: (path) => (launchPath = path) },
      );
      expect(outcome.status).toBe('successful');
      expect(launchPath).toBe('cold');
    } finally {
      await stopCold();
      await off.dispose();
    }
  });
});
