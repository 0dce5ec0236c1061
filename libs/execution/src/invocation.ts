import { AnsibleRunOptions, CommandJobSpec, FieldGrammar, GitJobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { dirname, join } from 'node:path';

/** One child process to start: an executable and its argument array. Never a shell string. */
export interface Invocation {
  command: string;
  args: string[];
  /** Working directory of the child. */
  cwd: string;
  /** Short name used in reasons and logs (`ansible-playbook`, `git fetch`). */
  label: string;
  /** Variables for this child only, over the shared child environment. */
  env?: Readonly<Record<string, string>>;
}

/** Files prepared for one run (see job-files.ts). */
export interface InvocationFiles {
  /** Extra vars file, passed as `--extra-vars=@<file>`. */
  extraVarsFile?: string;
}

/** A job message the runner refuses to execute: the message is the one-line reason. */
export class InvalidJobSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobSpecError';
  }
}

export const MAX_VERBOSE_LEVEL = 4;
export const MAX_FORKS = 10_000;
/** A week: no job runs longer, whatever it asks for (the configuration caps it further). */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
/**
 * Playbook tags (`--tags`, `--skip-tags`): word characters, dots and dashes, never a leading `-`
 * or `.`; no comma (the list separator) and nothing a shell or Ansible would read specially.
 */
export const TAG_GRAMMAR = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
export const MAX_TAGS = 100;

function requireText(value: unknown, field: string, grammar?: RegExp): string {
  if (typeof value !== 'string' || value === '') throw new InvalidJobSpecError(`${field} must be a non-empty string`);
  // Re-checked here though the gateway validated it: a message could come from anywhere on the bus.
  if (grammar && !grammar.test(value)) throw new InvalidJobSpecError(`${field} is not allowed: ${JSON.stringify(value)}`);
  return value;
}

/** Absolute paths only; the runner confines them to their roots before building anything. */
function requirePath(value: unknown, field: string): string {
  const path = requireText(value, field, FieldGrammar.path);
  if (!path.startsWith('/')) throw new InvalidJobSpecError(`${field} must be an absolute path`);
  return path;
}

function optionalInteger(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidJobSpecError(`${field} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new InvalidJobSpecError(`${field} must be a boolean`);
  return value;
}

/** `--tags=a,b` from a list of tags, each held to TAG_GRAMMAR; nothing for an absent or empty list. */
function tagListArg(value: unknown, field: string, option: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidJobSpecError(`${field} must be a list of tags`);
  if (value.length > MAX_TAGS) throw new InvalidJobSpecError(`${field} holds more than ${MAX_TAGS} tags`);
  const tags = value.map((tag) => requireText(tag, `${field} entry`, TAG_GRAMMAR));
  return tags.length ? [`${option}=${tags.join(',')}`] : [];
}

/**
 * The job's own time limit in seconds (JobControls.timeoutSeconds), checked; undefined when it
 * sets none. The runner takes the smaller of this and the configured maximum.
 */
export function jobTimeoutSeconds(spec: { timeoutSeconds?: unknown }): number | undefined {
  return optionalInteger(spec.timeoutSeconds, 'timeoutSeconds', 1, MAX_TIMEOUT_SECONDS);
}

/**
 * Options ansible and ansible-playbook share. The `--name=value` form everywhere: a value that
 * starts with `-` can then never be read as an option of its own.
 */
function sharedAnsibleArgs(spec: AnsibleRunOptions, files: InvocationFiles): string[] {
  const args = [`--inventory=${requirePath(spec.inventoryPath, 'inventoryPath')}`];
  const forks = optionalInteger(spec.forks, 'forks', 1, MAX_FORKS);
  if (forks !== undefined) args.push(`--forks=${forks}`);
  const verbosity = optionalInteger(spec.verboseLevel, 'verboseLevel', 0, MAX_VERBOSE_LEVEL) ?? 0;
  if (verbosity > 0) args.push(`-${'v'.repeat(verbosity)}`);
  if (optionalBoolean(spec.become, 'become')) args.push('--become');
  if (spec.becomeMethod !== undefined) {
    args.push(`--become-method=${requireText(spec.becomeMethod, 'becomeMethod', FieldGrammar.becomeMethod)}`);
  }
  if (spec.becomeUser !== undefined) {
    args.push(`--become-user=${requireText(spec.becomeUser, 'becomeUser', FieldGrammar.becomeUser)}`);
  }
  if (spec.limit !== undefined && spec.limit !== null) {
    // A host pattern like the command's own; the `=` form keeps a value from reading as an option.
    args.push(`--limit=${requireText(spec.limit, 'limit', FieldGrammar.hostPattern)}`);
  }
  if (optionalBoolean(spec.check, 'check')) args.push('--check');
  if (optionalBoolean(spec.diff, 'diff')) args.push('--diff');
  if (files.extraVarsFile !== undefined) args.push(`--extra-vars=@${requirePath(files.extraVarsFile, 'extraVarsFile')}`);
  return args;
}

/**
 * Every string of an object wrapped as `{"__ansible_unsafe": …}`, which Ansible's JSON decoder
 * reads as unsafe text: never templated, so `{{ lookup('pipe', …) }}` in a value stays text
 * instead of running a command on the Flansible host (ad-hoc arguments are templated there).
 */
function markStringsUnsafe(value: unknown): unknown {
  if (typeof value === 'string') return { __ansible_unsafe: value };
  if (Array.isArray(value)) return value.map(markStringsUnsafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markStringsUnsafe(v)]));
  }
  return value;
}

function moduleArgsText(moduleArgs: CommandJobSpec['moduleArgs']): string | undefined {
  if (moduleArgs === undefined || moduleArgs === null) return undefined;
  if (typeof moduleArgs === 'string') {
    // Ansible's key=value form: passed as it is (and templated by Ansible, as on its command line).
    if (moduleArgs.includes('\0')) throw new InvalidJobSpecError('moduleArgs must not contain NUL characters');
    return moduleArgs;
  }
  if (typeof moduleArgs !== 'object' || Array.isArray(moduleArgs)) {
    throw new InvalidJobSpecError('moduleArgs must be a string or an object');
  }
  // Ansible reads an argument that starts with `{` as JSON.
  return JSON.stringify(markStringsUnsafe(moduleArgs));
}

/**
 * `ansible --inventory=… --module-name=… [--args=…] [options] -- <host pattern>`.
 * Runs in `cwd` (where an operator's ansible.cfg may sit: the playbook root).
 */
export function buildCommandInvocation(spec: CommandJobSpec, files: InvocationFiles, cwd: string): Invocation {
  const args = sharedAnsibleArgs(spec, files);
  args.push(`--module-name=${requireText(spec.module, 'module', FieldGrammar.module)}`);
  const moduleArgs = moduleArgsText(spec.moduleArgs);
  if (moduleArgs !== undefined) args.push(`--args=${moduleArgs}`);
  args.push('--', requireText(spec.hostPattern, 'hostPattern', FieldGrammar.hostPattern));
  return { command: 'ansible', args, cwd, label: 'ansible' };
}

/** `ansible-playbook [options] [--vault-password-file=…] -- <playbook>`, run in the playbook's directory. */
export function buildPlaybookInvocation(spec: PlaybookJobSpec, files: InvocationFiles): Invocation {
  const args = sharedAnsibleArgs(spec, files);
  args.push(...tagListArg(spec.tags, 'tags', '--tags'), ...tagListArg(spec.skipTags, 'skipTags', '--skip-tags'));
  if (spec.vaultFile !== undefined && spec.vaultFile !== null) {
    args.push(`--vault-password-file=${requirePath(spec.vaultFile, 'vaultFile')}`);
  }
  args.push('--', requirePath(spec.playbookPath, 'playbookPath'));
  return {
    command: 'ansible-playbook',
    args,
    cwd: requirePath(spec.playbookDir, 'playbookDir'),
    label: 'ansible-playbook',
  };
}

/**
 * `git` pinned to the checkout at `dir` (the runner has checked it is the top of one): explicit
 * `--git-dir` and `--work-tree` (which also override a `core.worktree` in its config), and
 * GIT_CEILING_DIRECTORIES at its parent, so git never searches upward into an enclosing
 * repository such as the Flansible checkout itself.
 */
function gitInvocation(dir: string, label: string, args: string[]): Invocation {
  return {
    command: 'git',
    args: ['-C', dir, `--git-dir=${join(dir, '.git')}`, `--work-tree=${dir}`, ...args],
    cwd: dir,
    label,
    env: { GIT_CEILING_DIRECTORIES: dirname(dir) },
  };
}

/**
 * The git commands of a git job, run one after the other until one fails:
 * with reset, `fetch -- <remote>` and `reset --hard refs/remotes/<remote>/<branch> --`; then
 * `pull -- <remote> <branch>`.
 *
 * Remote and branch are held to a grammar that forbids a leading `-` (FieldGrammar) because
 * `git pull` hands them on to `git fetch` *without* the `--`: there, `--upload-pack=…` would be
 * read as an option. For reset, the full ref name cannot be an option either, and the trailing
 * `--` makes git read it as a revision, never a path.
 */
export function buildGitInvocations(spec: GitJobSpec): Invocation[] {
  const repoDir = requirePath(spec.repoDir, 'repoDir');
  const remote = requireText(spec.remote, 'remote', FieldGrammar.gitRemote);
  const branch = requireText(spec.branch, 'branch', FieldGrammar.gitBranch);
  if (spec.reset !== undefined && typeof spec.reset !== 'boolean') throw new InvalidJobSpecError('reset must be a boolean');
  const git = (label: string, ...args: string[]): Invocation => gitInvocation(repoDir, `git ${label}`, args);
  const steps: Invocation[] = [];
  if (spec.reset) {
    steps.push(git('fetch', 'fetch', '--', remote));
    steps.push(git('reset', 'reset', '--hard', `refs/remotes/${remote}/${branch}`, '--'));
  }
  steps.push(git('pull', 'pull', '--', remote, branch));
  return steps;
}

/**
 * `git pull --ff-only` in the playbook directory before a playbook run (update_git_repo): the
 * branch's own upstream, and never a merge commit in a deployment checkout.
 */
export function buildPlaybookGitPullInvocation(playbookDir: string): Invocation {
  return gitInvocation(requirePath(playbookDir, 'playbookDir'), 'git pull', ['pull', '--ff-only']);
}
