import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { GUARD_ENV, GUARD_REPORT_ENV } from './ansible-launcher';
import { EVENTS_FD_ENV } from './child-env';
import { Invocation, LIMIT_HOSTS_ENV } from './invocation';

// Which jobs the warm runner may fork. Ansible reads its configuration when it is imported, so a
// job runs warm only where a cold start would read the very configuration the fork server read.
// These rules decide from what the runner sees; the forked child then checks again by Ansible's
// own rules (flansible_forkserver.py, config_difference) and declines anything else.

/** Variables read per job, not when Ansible is imported: the launcher's, and the events plugin's. */
const PER_JOB_VARIABLES = new Set([GUARD_ENV, GUARD_REPORT_ENV, LIMIT_HOSTS_ENV, EVENTS_FD_ENV]);

/** Where Ansible looks for a configuration file when ANSIBLE_CONFIG is not set, besides the working directory. */
export const GLOBAL_CONFIG_FILES = (env: Record<string, string>): string[] => [
  ...(env.HOME ? [join(env.HOME, '.ansible.cfg')] : []),
  '/etc/ansible/ansible.cfg',
];

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The first variable on which two environments differ, or null. */
function environmentDifference(env: Record<string, string>, warm: Record<string, string>): string | null {
  for (const name of new Set([...Object.keys(env), ...Object.keys(warm)])) {
    if (!PER_JOB_VARIABLES.has(name) && env[name] !== warm[name]) return name;
  }
  return null;
}

/** The directories whose ansible.cfg would configure the job: its working directory, and its playbook's. */
function configDirs(invocation: Invocation): string[] {
  const dirs = [invocation.cwd];
  const playbook = invocation.args[invocation.args.length - 1];
  if (invocation.command === 'ansible-playbook' && playbook && isAbsolute(playbook)) dirs.push(dirname(playbook));
  return [...new Set(dirs)];
}

/** Why `invocation` must run cold next to a fork server started with `warmEnv`; null when it may run warm. */
export async function whyCold(invocation: Invocation, env: Record<string, string>, warmEnv: Record<string, string>): Promise<string | null> {
  if (invocation.command !== 'ansible' && invocation.command !== 'ansible-playbook') return `${invocation.label} is not Ansible`;
  if (env.ANSIBLE_CONFIG !== undefined) return 'ANSIBLE_CONFIG names its configuration';
  const variable = environmentDifference(env, warmEnv);
  if (variable !== null) return `its environment differs from the warm one in ${variable}`;
  for (const dir of configDirs(invocation)) {
    const file = join(dir, 'ansible.cfg');
    if (await exists(file)) return `${file} configures it`;
  }
  return null;
}

/** The global configuration files as they are now: a fork server is stale when this changes. */
export async function configFingerprint(env: Record<string, string>): Promise<string> {
  const parts = await Promise.all(
    GLOBAL_CONFIG_FILES(env).map((file) =>
      stat(file).then(
        (s) => `${file}:${s.ino}:${s.size}:${s.mtimeMs}`,
        () => `${file}:absent`,
      ),
    ),
  );
  return parts.join('|');
}
