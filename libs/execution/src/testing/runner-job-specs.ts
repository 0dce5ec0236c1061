import { JobEventType, JobKind, JobSpec } from '@flansible/contracts';
import { AnsibleSandbox } from './ansible-sandbox';

/** For the runner specs: an ad-hoc ping of localhost in the sandbox. */
export const pingSpec = (sandbox: AnsibleSandbox): JobSpec => ({
  kind: JobKind.Command,
  inventoryPath: sandbox.inventoryPath,
  hostPattern: 'localhost',
  module: 'ping',
});

/** The structured events of an ad-hoc ping of one host, in order, as the callback plugin records them. */
export const PING_EVENT_TYPES = [
  JobEventType.PlaybookStart,
  JobEventType.PlayStart,
  JobEventType.TaskStart,
  JobEventType.HostOk,
  JobEventType.Stats,
];

/** For the runner specs: a playbook that logs `sleeping-<marker>` and then sleeps `marker` seconds. */
export const sleeperSpec = async (sandbox: AnsibleSandbox, marker: string): Promise<JobSpec> => ({
  kind: JobKind.Playbook,
  inventoryPath: sandbox.inventoryPath,
  playbookDir: sandbox.playbookDir,
  playbookPath: await sandbox.writePlaybook(
    `sleep-${marker}.yml`,
    `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg="sleeping-${marker}"\n    - command: sleep ${marker}\n`,
  ),
});
