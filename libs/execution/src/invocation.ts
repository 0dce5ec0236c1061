import {
  AnsibleRunOptions,
  CommandJobSpec,
  GitJobSpec,
  InvalidJobSpecError,
  JobRange,
  PlaybookJobSpec,
  TextRules,
  optionalAbsolutePath,
  optionalBoolean,
  optionalHostNameList,
  optionalInteger,
  optionalModuleArgs,
  optionalTagList,
  optionalText,
  requireAbsolutePath,
  requireText,
} from '@flansible/contracts';
import { dirname, join } from 'node:path';

// Every field is checked again as its argument is built, by the same rules the gateway applied
// (contracts' job-spec-rules.ts): a stored job or a message could come from anywhere.

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

/** Files the executor prepares for one run (extra-vars-file.ts, limit-hosts-file.ts). */
export interface InvocationFiles {
  /** Extra vars file, passed as `--extra-vars=@<file>`. */
  extraVarsFile?: string;
  /** The relaunch's host names (spec.limitHosts), for the launcher: LIMIT_HOSTS_ENV. */
  limitHostsFile?: string;
}

/** Where the launcher (flansible_launch.py) reads a relaunch's host names from. */
export const LIMIT_HOSTS_ENV = 'FLANSIBLE_LIMIT_HOSTS';

/**
 * The launcher's variable naming the file of spec.limitHosts; nothing without them. The names
 * never go on the command line: `--limit` would read them as patterns (flansible_launch.py).
 */
function limitHostsEnv(spec: AnsibleRunOptions, files: InvocationFiles): Record<string, string> | undefined {
  if (optionalHostNameList(spec.limitHosts, 'limitHosts').length === 0) return undefined;
  if (files.limitHostsFile === undefined) throw new InvalidJobSpecError('limitHosts needs its file');
  return { [LIMIT_HOSTS_ENV]: requireAbsolutePath(files.limitHostsFile, 'limitHostsFile') };
}

/** What every builder below throws; the rules live in contracts (job-spec-rules.ts). */
export { InvalidJobSpecError };

/** `--tags=a,b` from a list of tags; nothing for an absent or empty list. */
function tagListArg(value: unknown, field: string, option: string): string[] {
  const tags = optionalTagList(value, field);
  return tags.length ? [`${option}=${tags.join(',')}`] : [];
}

/**
 * The job's own time limit in seconds (JobControls.timeoutSeconds), checked; undefined when it
 * sets none. The runner takes the smaller of this and the configured maximum.
 */
export function jobTimeoutSeconds(spec: { timeoutSeconds?: unknown }): number | undefined {
  return optionalInteger(spec.timeoutSeconds, 'timeoutSeconds', JobRange.timeoutSeconds);
}

/**
 * Options ansible and ansible-playbook share. The `--name=value` form everywhere: a value that
 * starts with `-` can then never be read as an option of its own.
 */
function sharedAnsibleArgs(spec: AnsibleRunOptions, files: InvocationFiles): string[] {
  const args = [`--inventory=${requireAbsolutePath(spec.inventoryPath, 'inventoryPath', TextRules.inventory)}`];
  const forks = optionalInteger(spec.forks, 'forks', JobRange.forks);
  if (forks !== undefined) args.push(`--forks=${forks}`);
  const verbosity = optionalInteger(spec.verboseLevel, 'verboseLevel', JobRange.verboseLevel) ?? 0;
  if (verbosity > 0) args.push(`-${'v'.repeat(verbosity)}`);
  if (optionalBoolean(spec.become, 'become')) args.push('--become');
  const becomeMethod = optionalText(spec.becomeMethod, 'becomeMethod', TextRules.becomeMethod);
  if (becomeMethod !== undefined) args.push(`--become-method=${becomeMethod}`);
  const becomeUser = optionalText(spec.becomeUser, 'becomeUser', TextRules.becomeUser);
  if (becomeUser !== undefined) args.push(`--become-user=${becomeUser}`);
  // A host pattern like the command's own; the `=` form keeps a value from reading as an option.
  const limit = optionalText(spec.limit, 'limit', TextRules.hostPattern);
  if (limit !== undefined) args.push(`--limit=${limit}`);
  if (optionalBoolean(spec.check, 'check')) args.push('--check');
  if (optionalBoolean(spec.diff, 'diff')) args.push('--diff');
  if (files.extraVarsFile !== undefined) args.push(`--extra-vars=@${requireAbsolutePath(files.extraVarsFile, 'extraVarsFile')}`);
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

function moduleArgsText(value: unknown): string | undefined {
  const moduleArgs = optionalModuleArgs(value, 'moduleArgs');
  // Ansible's key=value form is passed as it is; it reads an argument that starts with `{` as JSON.
  return typeof moduleArgs === 'object' ? JSON.stringify(markStringsUnsafe(moduleArgs)) : moduleArgs;
}

/**
 * `ansible --inventory=… --module-name=… [--args=…] [options] -- <host pattern>`.
 * Runs in `cwd` (where an operator's ansible.cfg may sit: the playbook root).
 */
export function buildCommandInvocation(spec: CommandJobSpec, files: InvocationFiles, cwd: string): Invocation {
  const args = sharedAnsibleArgs(spec, files);
  args.push(`--module-name=${requireText(spec.module, 'module', TextRules.module)}`);
  const moduleArgs = moduleArgsText(spec.moduleArgs);
  if (moduleArgs !== undefined) args.push(`--args=${moduleArgs}`);
  args.push('--', requireText(spec.hostPattern, 'hostPattern', TextRules.hostPattern));
  return withEnv({ command: 'ansible', args, cwd, label: 'ansible' }, limitHostsEnv(spec, files));
}

/** `ansible-playbook [options] [--vault-password-file=…] -- <playbook>`, run in the playbook's directory. */
export function buildPlaybookInvocation(spec: PlaybookJobSpec, files: InvocationFiles): Invocation {
  const args = sharedAnsibleArgs(spec, files);
  args.push(...tagListArg(spec.tags, 'tags', '--tags'), ...tagListArg(spec.skipTags, 'skipTags', '--skip-tags'));
  const vaultFile = optionalAbsolutePath(spec.vaultFile, 'vaultFile');
  if (vaultFile !== undefined) args.push(`--vault-password-file=${vaultFile}`);
  args.push('--', requireAbsolutePath(spec.playbookPath, 'playbookPath'));
  const invocation = {
    command: 'ansible-playbook',
    args,
    cwd: requireAbsolutePath(spec.playbookDir, 'playbookDir'),
    label: 'ansible-playbook',
  };
  return withEnv(invocation, limitHostsEnv(spec, files));
}

function withEnv(invocation: Invocation, env: Record<string, string> | undefined): Invocation {
  return env === undefined ? invocation : { ...invocation, env };
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
  const repoDir = requireAbsolutePath(spec.repoDir, 'repoDir');
  const remote = requireText(spec.remote, 'remote', TextRules.gitRemote);
  const branch = requireText(spec.branch, 'branch', TextRules.gitBranch);
  const reset = optionalBoolean(spec.reset, 'reset');
  const git = (label: string, ...args: string[]): Invocation => gitInvocation(repoDir, `git ${label}`, args);
  const steps: Invocation[] = [];
  if (reset) {
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
  return gitInvocation(requireAbsolutePath(playbookDir, 'playbookDir'), 'git pull', ['pull', '--ff-only']);
}
