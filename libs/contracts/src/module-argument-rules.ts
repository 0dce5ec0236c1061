/**
 * Ad-hoc module arguments a non-admin may not use because Ansible acts on them on the
 * controller — the Flansible host, with its keys and files — instead of on the target: files
 * an action plugin reads or writes locally, expressions it evaluates, and indirections to
 * another module. One table, two enforcers: the gateway (403 at submission) and the guard
 * inside Ansible (libs/execution/ansible/flansible_launch.py, which receives it as JSON and
 * checks the module Ansible resolved with the arguments Ansible's own parser read).
 *
 * Keys are short names of ansible.builtin modules (their ansible.builtin.* / ansible.legacy.*
 * forms map to them) or fully qualified names of other collections. ansible-core 2.14's
 * action plugins were reviewed one by one; the README lists what was decided for each.
 */
export interface ModuleArgumentRule {
  /** The module as a whole works on the controller: refused for non-admins. */
  wholeModule?: true;
  /** Parameters (aliases included) refused for non-admins. */
  params?: readonly string[];
  /** The parameters are harmless when this one is true in Ansible's sense (remote_src). */
  safeWhenTrue?: string;
  /** What Ansible assumes for safeWhenTrue when it is absent (assemble: remote_src defaults to true). */
  safeByDefault?: boolean;
  /** Why, as the end of a sentence naming the module (and parameter). */
  why: string;
}

const CONTROLLER_FILE = 'reads a file on the Flansible host';
const REMOTE_SRC_ONLY = 'reads a file on the Flansible host (use remote_src: true for a file on the target)';

export const MODULE_ARGUMENT_RULES: Readonly<Record<string, ModuleArgumentRule>> = {
  copy: { params: ['src'], safeWhenTrue: 'remote_src', why: REMOTE_SRC_ONLY },
  uri: { params: ['src'], safeWhenTrue: 'remote_src', why: REMOTE_SRC_ONLY },
  unarchive: { params: ['src'], safeWhenTrue: 'remote_src', why: REMOTE_SRC_ONLY },
  assemble: { params: ['src'], safeWhenTrue: 'remote_src', safeByDefault: true, why: REMOTE_SRC_ONLY },
  'ansible.posix.patch': { params: ['src'], safeWhenTrue: 'remote_src', why: REMOTE_SRC_ONLY },
  template: { wholeModule: true, why: `${CONTROLLER_FILE} (its template)` },
  script: { wholeModule: true, why: `${CONTROLLER_FILE} (the script) and copies it to the target` },
  fetch: { wholeModule: true, why: 'writes files on the Flansible host' },
  include_vars: { wholeModule: true, why: CONTROLLER_FILE },
  include_tasks: { wholeModule: true, why: CONTROLLER_FILE },
  import_tasks: { wholeModule: true, why: CONTROLLER_FILE },
  include_role: { wholeModule: true, why: CONTROLLER_FILE },
  import_role: { wholeModule: true, why: CONTROLLER_FILE },
  import_playbook: { wholeModule: true, why: CONTROLLER_FILE },
  add_host: { wholeModule: true, why: "changes the job's inventory on the Flansible host" },
  'ansible.posix.synchronize': { wholeModule: true, why: 'copies files between the Flansible host and the target' },
  debug: { params: ['var'], why: 'is evaluated as a Jinja expression on the Flansible host' },
  assert: { params: ['that'], why: 'is evaluated as a Jinja expression on the Flansible host' },
  package: { params: ['use'], why: 'runs another module than the one allowed' },
  service: { params: ['use'], why: 'runs another module than the one allowed' },
  yum: { params: ['use', 'use_backend'], why: 'runs another module than the one allowed' },
};

const BUILTIN_PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];

/** The table's key for a module name as a request or Ansible spells it. */
export function moduleRuleKey(module: string): string {
  const prefix = BUILTIN_PREFIXES.find((p) => module.startsWith(p));
  return prefix === undefined ? module : module.slice(prefix.length);
}

/** Ansible's boolean true (module_utils.parsing.convert_bool.BOOLEANS_TRUE). */
export function isAnsibleTrue(value: unknown): boolean {
  if (value === true || value === 1) return true;
  return typeof value === 'string' && ['y', 'yes', 'on', '1', 'true', 't'].includes(value.trim().toLowerCase());
}

/**
 * The parameter names of module arguments in either form: an object's keys, or the keys of a
 * `key=value` string. For the string, every whitespace-separated token's text before its first
 * `=` counts as a key — a superset of what Ansible's parse_kv reads as keys (it also honours
 * quotes and `\=`), so nothing it would read as a parameter is missed.
 */
export function moduleArgumentKeys(args: string | Record<string, unknown> | undefined): string[] {
  if (args === undefined) return [];
  if (typeof args !== 'string') return Object.keys(args);
  return [...args.matchAll(/(?:^|\s)([^\s=]+)=/g)].map((m) => m[1]);
}

/** Every value a parameter is given (an object has one; a string may repeat a key). */
function moduleArgumentValues(args: string | Record<string, unknown>, key: string): unknown[] {
  if (typeof args !== 'string') return key in args ? [args[key]] : [];
  return [...args.matchAll(/(?:^|\s)([^\s=]+)=(\S*)/g)].filter((m) => m[1] === key).map((m) => m[2].replace(/^(['"])(.*)\1$/, '$2'));
}

/**
 * Why a non-admin may not run `module` with `args`, or null when they may. Used by the gateway;
 * the guard inside Ansible applies the same table to what Ansible parsed.
 */
export function controllerSideUse(module: string, args: string | Record<string, unknown> | undefined): string | null {
  const key = moduleRuleKey(module);
  const rule = MODULE_ARGUMENT_RULES[key];
  if (!rule) return null;
  if (rule.wholeModule) return `Module ${module} ${rule.why}: reserved to admins`;
  if (args === undefined) return null;
  if (rule.safeWhenTrue !== undefined) {
    const values = moduleArgumentValues(args, rule.safeWhenTrue);
    const safe = values.length === 0 ? rule.safeByDefault === true : values.every(isAnsibleTrue);
    if (safe) return null;
  }
  const keys = new Set(moduleArgumentKeys(args));
  const param = rule.params?.find((p) => keys.has(p));
  return param === undefined ? null : `Module ${module} parameter ${param} ${rule.why}: reserved to admins`;
}
