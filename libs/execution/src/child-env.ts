import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { EVENTS_CALLBACK_NAME, EVENTS_FD } from './callback-plugin';

/** Where the events plugin is told its descriptor; read when the plugin starts, so it may differ per job. */
export const EVENTS_FD_ENV = 'FLANSIBLE_EVENTS_FD';

/** Variables the child inherits from the service as they are. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'USER', 'LOGNAME', 'SSH_AUTH_SOCK'];

/** Names that look like they hold a secret; never handed to a child even under ANSIBLE_*. */
const SECRET_LOOKING = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;

/** ANSIBLE_* settings that match SECRET_LOOKING but name a behaviour or a path, not a secret. */
const NOT_SECRET = new Set(['ANSIBLE_HOST_KEY_CHECKING', 'ANSIBLE_PRIVATE_KEY_FILE']);

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Directory for Ansible's controller-side temporary files (ANSIBLE_LOCAL_TEMP). */
export function ansibleLocalTempDir(dataDir: string): string {
  return join(dataDir, 'tmp', 'ansible-local');
}

function isPassedThrough(name: string): boolean {
  if (INHERITED.includes(name) || name.startsWith('LC_')) return true;
  if (!name.startsWith('ANSIBLE_')) return false;
  return NOT_SECRET.has(name) || !SECRET_LOOKING.test(name);
}

export interface ChildEnvOptions {
  /**
   * Directory of the flansible_events callback plugin: when given, Ansible is told to load it
   * (ad-hoc commands included) and to write its events to file descriptor 3.
   */
  callbackPluginDir?: string | null;
  /** False: the plugin is loaded but told no descriptor, so it records nothing (default true). */
  recordEvents?: boolean;
}

/** `first` ahead of the entries of an inherited list, without duplicates. */
function prepend(first: string, inherited: string | undefined, separator: string): string {
  const rest = (inherited ?? '').split(separator).filter((entry) => entry !== '' && entry !== first);
  return [first, ...rest].join(separator);
}

/**
 * The environment of every ansible / ansible-playbook / git child: an allow-list, so the
 * service's own settings (FLANSIBLE_*, database and broker URLs, passwords) never reach a
 * process that runs user-chosen modules. The settings chosen here win over inherited ones.
 */
export function buildChildEnv(serviceEnv: NodeJS.ProcessEnv, dataDir: string, options: ChildEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serviceEnv)) {
    if (value !== undefined && isPassedThrough(name)) env[name] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME ??= userInfo().homedir;
  // Ansible 2.14 refuses to start without a UTF-8 locale.
  env.LANG ??= 'C.UTF-8';
  Object.assign(env, {
    // Output streams live instead of in 4 KiB blocks.
    PYTHONUNBUFFERED: '1',
    // The output should read as plain text, whatever the operator's terminal settings.
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    // No *.retry files next to the operator's playbooks.
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_LOCAL_TEMP: ansibleLocalTempDir(dataDir),
    // A git remote asking for a password fails instead of waiting for ever.
    GIT_TERMINAL_PROMPT: '0',
  });
  if (options.callbackPluginDir) {
    Object.assign(env, {
      // An operator's own callback plugins and enabled callbacks keep working beside ours.
      ANSIBLE_CALLBACK_PLUGINS: prepend(options.callbackPluginDir, env.ANSIBLE_CALLBACK_PLUGINS, delimiter),
      ANSIBLE_CALLBACKS_ENABLED: prepend(EVENTS_CALLBACK_NAME, env.ANSIBLE_CALLBACKS_ENABLED, ','),
      // Ad-hoc `ansible` runs no callback but its stdout one without this.
      ANSIBLE_LOAD_CALLBACK_PLUGINS: '1',
    });
    if (options.recordEvents !== false) env[EVENTS_FD_ENV] = String(EVENTS_FD);
  }
  return env;
}
