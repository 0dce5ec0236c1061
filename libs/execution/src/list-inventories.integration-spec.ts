import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@flansible/testing';
import { AnsibleLauncher, findAnsibleScript, scriptCommand } from './ansible-launcher';

jest.setTimeout(60_000);

const run = promisify(execFile);
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };

function lister(): AnsibleLauncher {
  const found = findAnsibleScript('flansible_list_inventories.py', ENV.PATH);
  if (typeof found === 'string') throw new Error(found);
  return found;
}

/** What the lister answers for `inventories`, given `timeoutS` each. */
async function listed(timeoutS: number, ...inventories: string[]): Promise<Record<string, { list?: unknown; error?: string }>> {
  const [command, args] = scriptCommand(lister(), [String(timeoutS), ...inventories]);
  const { stdout } = await run(command, args, { env: ENV, cwd: tmpdir() });
  return JSON.parse(stdout);
}

const running = (marker: string) => {
  try {
    return execFileSync('pgrep', ['-f', marker]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

/** flansible_list_inventories.py: `ansible-inventory --list` for several inventories in one process. */
describe('the inventory lister', () => {
  let dir: string;
  const marker = `${Math.floor(100 + Math.random() * 800)}.375`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flansible-inventories-'));
    writeFileSync(join(dir, 'hosts.ini'), 'web1 ansible_connection=local\n[db]\ndb1 ansible_host=10.0.0.5\nlocalhost\n');
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    app:\n      hosts:\n        app1:\n          ansible_connection: ssh\n        127.0.0.1: {}\n');
    // A directory inventory whose group_vars make every host local: read as Ansible reads it.
    mkdirSync(join(dir, 'tree', 'group_vars'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'hosts'), '[edge]\nedge1\nedge2\n');
    writeFileSync(join(dir, 'tree', 'group_vars', 'edge.yml'), 'ansible_connection: local\n');
    // An inventory script that never answers.
    writeFileSync(join(dir, 'hangs.sh'), `#!/bin/sh\nexec sleep ${marker}\n`);
    chmodSync(join(dir, 'hangs.sh'), 0o755);
  });

  afterAll(() => {
    for (const pid of running(`sleep ${marker}`)) process.kill(Number(pid), 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers for each inventory exactly what ansible-inventory --list prints for it alone', async () => {
    const inventories = ['hosts.ini', 'hosts.yml', 'tree', 'missing'].map((name) => join(dir, name));
    const answers = await listed(60, ...inventories);
    expect(Object.keys(answers)).toEqual(inventories);
    for (const inventory of inventories) {
      const { stdout } = await run('ansible-inventory', [`--inventory=${inventory}`, '--list'], { env: ENV, cwd: tmpdir() });
      expect(answers[inventory]).toEqual({ list: JSON.parse(stdout) });
    }
    // One inventory's hosts do not leak into the next one's answer.
    expect(JSON.stringify(answers[join(dir, 'hosts.yml')])).not.toContain('web1');
    expect(answers[join(dir, 'tree')]).toMatchObject({ list: { _meta: { hostvars: { edge1: { ansible_connection: 'local' } } } } });
  });

  it('gives up on an inventory after its timeout, kills what it started, and lists the others', async () => {
    const answers = await listed(1, join(dir, 'hangs.sh'), join(dir, 'hosts.ini'));
    expect(answers[join(dir, 'hangs.sh')]).toEqual({ error: 'ansible-inventory took longer than 1 s' });
    expect(answers[join(dir, 'hosts.ini')]).toMatchObject({ list: { _meta: { hostvars: { web1: { ansible_connection: 'local' } } } } });
    expect(running(`sleep ${marker}`)).toEqual([]);
  });

  it('stops the inventory being listed, with everything it started, when it is stopped itself', async () => {
    const child = spawn(...scriptCommand(lister(), ['60', join(dir, 'hangs.sh')]), { env: ENV, stdio: 'ignore' });
    await eventually(() => running(`sleep ${marker}`).length === 1, 'the inventory script to start');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(128 + 15);
    await eventually(() => running(`sleep ${marker}`).length === 0, 'the inventory script to be gone');
  });
});
