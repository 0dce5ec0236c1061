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
}

/** The inventory a job runs against, for headers, access checks and history (null for git). */
export function inventoryOf(spec: JobSpec): string | null {
  return spec.kind === JobKind.Git ? null : spec.inventoryPath;
}

/** Narrow check used by consumers before trusting a message body. */
export function isJobMessage(value: unknown): value is JobMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<JobMessage>;
  return (
    m.schemaVersion === JOB_MESSAGE_SCHEMA_VERSION &&
    typeof m.jobId === 'string' &&
    typeof m.submittedBy === 'string' &&
    typeof m.spec === 'object' &&
    m.spec !== null &&
    Object.values(JobKind).includes((m.spec as JobSpec).kind)
  );
}

/**
 * Message patterns of the runner's handlers (`@EventPattern`). Every job message is one event,
 * whatever the job's kind: it says "a job is queued", and which job runs is the store's fair pick.
 */
export const JobPatterns = {
  Queued: 'flansible.job.queued',
} as const;
