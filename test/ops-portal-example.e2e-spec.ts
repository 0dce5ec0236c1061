import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { eventually } from './support/api-client';
import { Deployment } from './support/deployment';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');

/** The example, started exactly as `npm run example:ops-portal` starts it. */
class ExampleRun {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    const script = (require(join(ROOT, 'package.json')) as { scripts: Record<string, string> }).scripts['example:ops-portal'];
    const [command, ...args] = script.split(/\s+/);
    expect(command).toBe('node');
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
  }

  /** The job id the example printed when it launched. */
  get jobId(): string | null {
    return /as job ([0-9a-f-]{36})/.exec(this.stdout)?.[1] ?? null;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  stop(): void {
    if (!this.hasExited) this.child.kill('SIGKILL');
  }
}

describe('the ops-portal example', () => {
  let deployment: Deployment;
  const runs: ExampleRun[] = [];
  const run = (env: Record<string, string>) => {
    const example = new ExampleRun({
      FLANSIBLE_URL: deployment.api.baseUrl,
      FLANSIBLE_USER: 'admin',
      FLANSIBLE_PASSWORD: 'admin',
      FLANSIBLE_PLAYBOOK_DIR: 'app',
      ...env,
    });
    runs.push(example);
    return example;
  };
  const sdk = () => deployment.api.sdk;

  beforeAll(async () => {
    deployment = await Deployment.start('embedded');
  });
  afterAll(async () => {
    for (const example of runs) example.stop();
    await deployment?.stop();
  });

  it('lists the playbooks, launches one with extra vars, prints its output and the per-host summary', async () => {
    const example = run({ FLANSIBLE_PLAYBOOK: 'ok.yml', FLANSIBLE_EXTRA_VARS: JSON.stringify({ greeting: 'from-the-portal' }) });
    const code = await example.exited;
    expect({ code, stderr: example.stderr }).toEqual({ code: 0, stderr: '' });
    const { stdout } = example;

    expect(stdout).toContain(`Playbooks on ${deployment.api.baseUrl}:\n`);
    const playbooks = await sdk().listPlaybooks();
    expect(playbooks.length).toBeGreaterThan(1);
    for (const { playbook_dir, playbook } of playbooks) expect(stdout).toContain(`\n  ${playbook_dir}/${playbook}\n`);

    const id = example.jobId as string;
    expect(stdout).toContain(`Launched app/ok.yml as job ${id}`);
    const job = await sdk().getJob(id);
    expect(job).toMatchObject({ kind: 'playbook', status: 'successful', request: { playbook: expect.stringMatching(/\/app\/ok\.yml$/), extra_var_names: ['greeting'] } });

    // Every line of the job's output, in order, as it was printed.
    const stored = (await sdk().getTaskOutput(id)).replace(/\n$/, '').split('\n');
    expect(stdout).toContain(stored.map((line) => `  | ${line}\n`).join(''));
    expect(stdout).toContain('  |     "msg": "greeting=from-the-portal"\n');
    expect(stdout).toContain('[status] successful\n');

    expect(stdout).toContain(`Job ${id} ended: successful\n`);
    expect(stdout).toMatch(/^host\s+ok\s+changed\s+unreachable\s+failed\s+skipped\s+rescued\s+ignored$/m);
    expect(stdout).toMatch(/^localhost\s+1\s+0\s+0\s+0\s+0\s+0\s+0$/m);
  });

  it('prints the lines while the job is still running', async () => {
    const example = run({ FLANSIBLE_PLAYBOOK: 'slow.yml', FLANSIBLE_EXTRA_VARS: JSON.stringify({ slow_seconds: 4 }) });
    await eventually(async () => example.stdout.includes('TASK [slow-sleep]') || example.hasExited, 'the sleep task to be printed');
    expect(example.stdout).toContain('TASK [slow-sleep]');
    expect(example.stdout).not.toContain('slow-finished-marker');
    expect((await sdk().getJob(example.jobId as string)).status).toBe('running');
    expect(await example.exited).toBe(0);
    expect(example.stdout).toContain('TASK [slow-finished-marker]');
  });

  it('exits non-zero when the job fails, saying why', async () => {
    const example = run({ FLANSIBLE_PLAYBOOK: 'fail.yml' });
    expect(await example.exited).toBe(1);
    expect(example.stdout).toContain('this playbook fails on purpose');
    expect(example.stdout).toContain(`Job ${example.jobId} ended: failed\n`);
    expect(example.stdout).toMatch(/^localhost\s+0\s+0\s+0\s+1\s+0\s+0\s+0$/m);
    expect(example.stderr).toMatch(/^Job did not succeed: .+/m);
  });

  it('exits non-zero with the server\'s reason when the launch is refused', async () => {
    const example = run({ FLANSIBLE_PLAYBOOK: 'missing.yml' });
    expect(await example.exited).toBe(2);
    expect(example.stderr).toMatch(/Flansible refused: POST \/api\/v1\/jobs\/playbook answered 404 Not Found: .*missing\.yml/);
  });
});
