import { JobEventType, JobSpec, NewJobEvent } from '@flansible/contracts';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { play, useJobExecutor } from './testing/job-executor-harness';

jest.setTimeout(60_000);

/**
 * limitHosts (a relaunch's hosts), against real Ansible: the run reaches hosts with exactly those
 * names, within what the job's own limit selects, however the names would read as patterns.
 */
const { sandbox, execute, command, playbook } = useJobExecutor();

/** Host names that are pattern syntax to Ansible, beside plain ones, all over the local connection. */
const ODD_HOSTS = ['web1', 'web2', 'web*', '!web1', '&web2', 'db,web1', '~web', '@hosts', 'web?x'];
let inventoryPath: string;

beforeAll(async () => {
  inventoryPath = join(sandbox().config.inventoryRoot, 'odd.yml');
  const hosts = ODD_HOSTS.map((name) => `        ${JSON.stringify(name)}: {}`).join('\n');
  await writeFile(
    inventoryPath,
    `all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n  children:\n    targets:\n      hosts:\n${hosts}\n`,
  );
});

/** The hosts a job ran a task on, from its events. */
async function hostsReached(spec: JobSpec): Promise<string[]> {
  const events: NewJobEvent[] = [];
  const { outcome, output } = await execute(spec, { appendEvents: async (batch) => void events.push(...batch) });
  expect({ status: outcome.status, output }).toMatchObject({ status: 'successful' });
  const hosts = events.filter((e) => e.type === JobEventType.HostOk).map((e) => e.host as string);
  return [...new Set(hosts)].sort();
}

describe('a job with limitHosts', () => {
  it.each(ODD_HOSTS.filter((h) => h !== 'web1' && h !== 'web2'))('reaches the host named %s and no other', async (name) => {
    expect(await hostsReached(command({ inventoryPath, hostPattern: 'all', limitHosts: [name] }))).toEqual([name]);
  });

  it('reaches only the named hosts, guarded or not, ad-hoc and in playbooks', async () => {
    const path = await sandbox().writePlaybook('relaunch.yml', play('ping:'));
    const names = ['!web1', '&web2', 'web2'];
    expect(await hostsReached(command({ inventoryPath, hostPattern: 'all', limitHosts: names, unrestricted: true }))).toEqual(names.sort());
    expect(await hostsReached(playbook(path, { inventoryPath, limitHosts: names }))).toEqual(names.sort());
    expect(await hostsReached(playbook(path, { inventoryPath, limitHosts: names, unrestricted: true }))).toEqual(names.sort());
  });

  it("stays within the job's own limit and host pattern: the hosts both select", async () => {
    // `web*,web1` as a limit: the literal host web* (Ansible takes a pattern that is a host's name
    // as that host) and web1; the relaunch names web*, web2 and !web1.
    const names = ['web*', 'web2', '!web1'];
    expect(await hostsReached(command({ inventoryPath, hostPattern: 'all', limit: 'web*,web1', limitHosts: names }))).toEqual(['web*']);
    expect(await hostsReached(command({ inventoryPath, hostPattern: 'web2:web1', limitHosts: names }))).toEqual(['web2']);
  });

  it('runs nowhere when none of the names is a host any more', async () => {
    const path = await sandbox().writePlaybook('relaunch-gone.yml', play('ping:'));
    // As a pattern, web? would match web1 and web2.
    expect(await hostsReached(command({ inventoryPath, hostPattern: 'all', limitHosts: ['web?', 'gone'] }))).toEqual([]);
    expect(await hostsReached(playbook(path, { inventoryPath, limitHosts: ['web?'] }))).toEqual([]);
  });

  describe('without the launcher', () => {
    const saved = process.env.PATH;
    afterEach(() => {
      process.env.PATH = saved;
    });

    it('ends as error instead of running on every host, even for an admin', async () => {
      // An `ansible` whose interpreter cannot be read: there is no launcher to narrow the run.
      const bin = join(sandbox().root, 'no-launcher-bin');
      await mkdir(bin, { recursive: true });
      await writeFile(join(bin, 'ansible'), 'not a script\n');
      await chmod(join(bin, 'ansible'), 0o755);
      process.env.PATH = `${bin}:/usr/bin:/bin`;
      const { outcome, spawned } = await execute(command({ inventoryPath, hostPattern: 'all', limitHosts: ['web1'], unrestricted: true }));
      expect(outcome).toEqual({
        status: 'error',
        reason: 'Could not start ansible: the Python interpreter of ansible could not be read from its first line',
        returnCode: null,
      });
      expect(spawned).toEqual([]);
    });
  });
});
