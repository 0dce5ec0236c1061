import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ansiblePython, findShippedAnsibleDir } from './ansible-launcher';

jest.setTimeout(60_000);

/**
 * What a forked warm job must not share with the fork server (and so with every other job): state
 * in memory that a fork keeps shared between processes. Run in the server's own Python, with the
 * server's imports, by the child-side code the server runs (flansible_warm_job.become_fresh).
 */
const SERVER_THEN_JOB = `
import json, os, sys
import flansible_forkserver as server
import flansible_warm_job as warm_job
server.preload()

# Held, as a job killed in the middle of a module build leaves its lock.
held = warm_job.cross_process_locks()
for lock in held.values():
    lock.acquire()
report_r, report_w = os.pipe()
if os.fork() == 0:
    warm_job.become_fresh()
    free = sorted(name for name, lock in warm_job.cross_process_locks().items() if lock.acquire(timeout=0.2))
    os.write(report_w, json.dumps(free).encode())
    sys.exit(0)
os.close(report_w)
os.wait()
print(json.dumps({'held': sorted(held), 'freeInTheJob': json.loads(os.read(report_r, 1 << 16))}))
`;

describe('a job forked warm', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'flansible-warm-isolation-'));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('has cross-process locks of its own: one that the server or another job holds blocks nothing', async () => {
    const [python, ...flags] = ansiblePython(process.env.PATH ?? '') ?? [];
    const shipped = findShippedAnsibleDir('flansible_warm_job.py');
    expect(python && shipped).toBeTruthy();
    const { stdout } = await promisify(execFile)(python, [...flags, '-c', SERVER_THEN_JOB], {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, PYTHONPATH: shipped! },
    });
    const { held, freeInTheJob } = JSON.parse(stdout) as { held: string[]; freeInTheJob: string[] };
    // Ansible 2.14 makes one per package manager, copy, file, setup, slurp, stat, the generic one
    // (module names it did not expect, e.g. ansible.legacy.command) and the encryption lock.
    expect(held).toEqual(expect.arrayContaining(['None', 'copy', 'setup', 'encrypt']));
    expect(freeInTheJob).toEqual(held);
  });
});
