import { FieldGrammar } from './field-grammar';
import {
  InvalidJobSpecError,
  JobRange,
  TextRules,
  isPlainObject,
  optionalAbsolutePath,
  optionalBoolean,
  optionalHostNameList,
  optionalInteger,
  optionalModuleArgs,
  optionalObject,
  optionalTagList,
  optionalText,
  requireAbsolutePath,
  requireText,
} from './job-spec-rules';

/**
 * What the gateway puts on the bus and the runner executes. Paths are already resolved by the
 * gateway to real absolute paths inside their configured roots; the runner re-checks them.
 */
export const JobKind = {
  Command: 'command',
  Playbook: 'playbook',
  Git: 'git',
} as const;
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

/** Controls every job kind carries. */
export interface JobControls {
  /** Seconds before the whole process tree is killed (timed_out); the server's maximum when absent. */
  timeoutSeconds?: number;
  /** Higher runs earlier where the queue supports it (0-9, default 0). */
  priority?: number;
}

/** Options shared by ad-hoc commands and playbooks. */
export interface AnsibleRunOptions extends JobControls {
  inventoryPath: string;
  extraVars?: Record<string, unknown>;
  forks?: number;
  verboseLevel?: number;
  become?: boolean;
  becomeMethod?: string;
  becomeUser?: string;
  /** `--limit`: further restrict the hosts. */
  limit?: string;
  /**
   * Exact host names (never patterns) the run is narrowed to, within what `limit` selects: a
   * relaunch's hosts, from the first run's results. Server-side only; no request sets it.
   */
  limitHosts?: string[];
  /** `--check`: dry run. */
  check?: boolean;
  /** `--diff`: show changes. */
  diff?: boolean;
  /**
   * The submitter is an admin: Ansible runs without the Flansible guard. Absent (every other
   * user): the job may act only on hosts its inventory declares, and an ad-hoc command's
   * arguments are held to MODULE_ARGUMENT_RULES, inside Ansible (flansible_launch.py).
   */
  unrestricted?: boolean;
}

export interface CommandJobSpec extends AnsibleRunOptions {
  kind: typeof JobKind.Command;
  hostPattern: string;
  module: string;
  /** An object goes to `-a` as JSON; a string is passed to `-a` as it is. */
  moduleArgs?: string | Record<string, unknown>;
}

export interface PlaybookJobSpec extends AnsibleRunOptions {
  kind: typeof JobKind.Playbook;
  playbookDir: string;
  playbookPath: string;
  vaultFile?: string;
  /** `git pull` playbookDir before running. */
  updateGitRepo?: boolean;
  /** `--tags` / `--skip-tags`. */
  tags?: string[];
  skipTags?: string[];
}

export interface GitJobSpec extends JobControls {
  kind: typeof JobKind.Git;
  repoDir: string;
  remote: string;
  branch: string;
  /** fetch + hard reset to remote/branch before the pull. */
  reset: boolean;
}

export type JobSpec = CommandJobSpec | PlaybookJobSpec | GitJobSpec;

export const JOB_MESSAGE_SCHEMA_VERSION = 1;

export interface JobMessage {
  schemaVersion: typeof JOB_MESSAGE_SCHEMA_VERSION;
  jobId: string;
  submittedBy: string;
  submittedAt: string;
  spec: JobSpec;
  /** The submitting request's id (X-Request-Id), for the logs. */
  requestId?: string;
}

/** The inventory a job runs against, for headers, access checks and history (null for git). */
export function inventoryOf(spec: JobSpec): string | null {
  return spec.kind === JobKind.Git ? null : spec.inventoryPath;
}

const RUN_OPTION_FIELDS = [
  'inventoryPath', 'extraVars', 'forks', 'verboseLevel', 'become', 'becomeMethod', 'becomeUser',
  'limit', 'limitHosts', 'check', 'diff', 'unrestricted', 'timeoutSeconds', 'priority',
] as const;

/** Every field each kind may carry: a message with any other is not of this schema version. */
const SPEC_FIELDS: Record<JobKind, ReadonlySet<string>> = {
  [JobKind.Command]: new Set(['kind', ...RUN_OPTION_FIELDS, 'hostPattern', 'module', 'moduleArgs']),
  [JobKind.Playbook]: new Set(['kind', ...RUN_OPTION_FIELDS, 'playbookDir', 'playbookPath', 'vaultFile', 'updateGitRepo', 'tags', 'skipTags']),
  [JobKind.Git]: new Set(['kind', 'timeoutSeconds', 'priority', 'repoDir', 'remote', 'branch', 'reset']),
};

function checkControls(spec: Record<string, unknown>): void {
  optionalInteger(spec.timeoutSeconds, 'timeoutSeconds', JobRange.timeoutSeconds);
  optionalInteger(spec.priority, 'priority', JobRange.priority);
}

function checkRunOptions(spec: Record<string, unknown>): void {
  checkControls(spec);
  requireAbsolutePath(spec.inventoryPath, 'inventoryPath', TextRules.inventory);
  optionalObject(spec.extraVars, 'extraVars');
  optionalInteger(spec.forks, 'forks', JobRange.forks);
  optionalInteger(spec.verboseLevel, 'verboseLevel', JobRange.verboseLevel);
  for (const flag of ['become', 'check', 'diff', 'unrestricted'] as const) optionalBoolean(spec[flag], flag);
  optionalText(spec.becomeMethod, 'becomeMethod', TextRules.becomeMethod);
  optionalText(spec.becomeUser, 'becomeUser', TextRules.becomeUser);
  optionalText(spec.limit, 'limit', TextRules.hostPattern);
  optionalHostNameList(spec.limitHosts, 'limitHosts');
}

/**
 * `value` as a JobSpec once every field of its kind passed the rules of job-spec-rules.ts (the
 * ones the gateway's DTOs and the argv builders apply); InvalidJobSpecError naming the first
 * field that does not. Absent fields may be undefined or null. Returns `value` itself, unchanged.
 */
export function parseJobSpec(value: unknown): JobSpec {
  if (!isPlainObject(value)) throw new InvalidJobSpecError('spec must be an object');
  const kind = value.kind as JobKind;
  const fields = Object.values(JobKind).includes(kind) ? SPEC_FIELDS[kind] : undefined;
  if (!fields) throw new InvalidJobSpecError(`Unknown job kind: ${JSON.stringify(value.kind)}`);
  const unknown = Object.keys(value).filter((key) => !fields.has(key) && value[key] !== undefined);
  if (unknown.length) throw new InvalidJobSpecError(`A ${kind} job has no field ${unknown.join(', ')}`);
  switch (kind) {
    case JobKind.Command:
      checkRunOptions(value);
      requireText(value.hostPattern, 'hostPattern', TextRules.hostPattern);
      requireText(value.module, 'module', TextRules.module);
      optionalModuleArgs(value.moduleArgs, 'moduleArgs');
      break;
    case JobKind.Playbook:
      checkRunOptions(value);
      requireAbsolutePath(value.playbookDir, 'playbookDir');
      requireAbsolutePath(value.playbookPath, 'playbookPath');
      optionalAbsolutePath(value.vaultFile, 'vaultFile');
      optionalBoolean(value.updateGitRepo, 'updateGitRepo');
      optionalTagList(value.tags, 'tags');
      optionalTagList(value.skipTags, 'skipTags');
      break;
    case JobKind.Git:
      checkControls(value);
      requireAbsolutePath(value.repoDir, 'repoDir');
      requireText(value.remote, 'remote', TextRules.gitRemote);
      requireText(value.branch, 'branch', TextRules.gitBranch);
      optionalBoolean(value.reset, 'reset');
      break;
  }
  return value as unknown as JobSpec;
}

const MESSAGE_FIELDS = new Set(['schemaVersion', 'jobId', 'submittedBy', 'submittedAt', 'spec', 'requestId']);

/**
 * A message off the bus as a JobMessage, checked whole: its schema version, its envelope and every
 * field of its spec (parseJobSpec). InvalidJobSpecError with the reason otherwise. Returns `value`
 * itself, so its spec still compares equal to the stored one.
 */
export function parseJobMessage(value: unknown): JobMessage {
  if (!isPlainObject(value)) throw new InvalidJobSpecError('A job message must be a JSON object');
  if (value.schemaVersion !== JOB_MESSAGE_SCHEMA_VERSION) {
    throw new InvalidJobSpecError(`Job message schema version ${JSON.stringify(value.schemaVersion)} is not ${JOB_MESSAGE_SCHEMA_VERSION}`);
  }
  for (const field of ['jobId', 'submittedBy', 'submittedAt'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') throw new InvalidJobSpecError(`${field} must be a non-empty string`);
  }
  if (Number.isNaN(Date.parse(value.submittedAt as string))) throw new InvalidJobSpecError('submittedAt must be an ISO date');
  if (value.requestId !== undefined && !(typeof value.requestId === 'string' && FieldGrammar.requestId.test(value.requestId))) {
    throw new InvalidJobSpecError('requestId must be a request id (letters, digits, . _ : -, at most 128)');
  }
  const unknown = Object.keys(value).filter((key) => !MESSAGE_FIELDS.has(key));
  if (unknown.length) throw new InvalidJobSpecError(`A job message has no field ${unknown.join(', ')}`);
  parseJobSpec(value.spec);
  return value as unknown as JobMessage;
}

/** parseJobMessage as a type guard. */
export function isJobMessage(value: unknown): value is JobMessage {
  try {
    parseJobMessage(value);
    return true;
  } catch (err) {
    if (err instanceof InvalidJobSpecError) return false;
    throw err;
  }
}

/**
 * Message patterns of the runner's handlers (`@EventPattern`). Every job message is one event,
 * whatever the job's kind: it says "a job is queued", and which job runs is the store's fair pick.
 */
export const JobPatterns = {
  Queued: 'flansible.job.queued',
} as const;
