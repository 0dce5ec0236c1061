import { AnsibleRunOptions, CommandJobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { AnsibleCommandDto } from './dto/ansible-command.dto';
import { AnsiblePlaybookDto } from './dto/ansible-playbook.dto';
import { AnsibleRunOptionsDto } from './dto/ansible-run-options.dto';
import { JobOptionsDto, PlaybookTagsDto } from './dto/job-options.dto';

/*
 * A stored job's spec as the request that would submit it again: a relaunch goes through the
 * very checks a fresh submission does (JobSubmissionService), with the caller's rights of now.
 * Paths are the stored real paths, which the workspace resolves (and confines) again like any
 * absolute path a request names; extra vars are the stored values, never sent by the client.
 *
 * Every spec field is mapped or named as left out: a field added to a spec without a line here
 * fails to compile (`unmapped`), instead of being dropped from every relaunch.
 */

export type CommandRequest = AnsibleCommandDto & Partial<JobOptionsDto>;
export type PlaybookRequest = AnsiblePlaybookDto & Partial<JobOptionsDto & PlaybookTagsDto>;
type RunRequest = AnsibleRunOptionsDto & Partial<JobOptionsDto>;

/** Compiles only for an empty object type: what a destructuring left over must be. */
function noneLeft(unmapped: Record<string, never>): void {
  void unmapped;
}

export function commandRequestOf(spec: CommandJobSpec): CommandRequest {
  const { kind: _kind, hostPattern, module, moduleArgs, ...run } = spec;
  return { host_pattern: hostPattern, module, module_args: moduleArgs, ...runRequestOf(run) };
}

export function playbookRequestOf(spec: PlaybookJobSpec): PlaybookRequest {
  const { kind: _kind, playbookDir, playbookPath, vaultFile, updateGitRepo, tags, skipTags, ...run } = spec;
  return {
    playbook_dir: playbookDir,
    // Absolute: resolved inside playbook_dir (and the root) as a relative name would be.
    playbook: playbookPath,
    vault_file: vaultFile,
    update_git_repo: updateGitRepo,
    tags,
    skip_tags: skipTags,
    ...runRequestOf(run),
  };
}

/**
 * `run` is what a kind's own fields leave of its spec: the type allows no field beyond
 * AnsibleRunOptions, so a field added to one kind's spec must be mapped by that kind.
 */
function runRequestOf<T extends AnsibleRunOptions>(run: T & Record<Exclude<keyof T, keyof AnsibleRunOptions>, never>): RunRequest {
  const options: AnsibleRunOptions = run;
  const {
    inventoryPath,
    extraVars,
    forks,
    verboseLevel,
    become,
    becomeMethod,
    becomeUser,
    limit,
    check,
    diff,
    timeoutSeconds,
    priority,
    // Not request fields: the submission sets unrestricted for whoever submits now, and a
    // relaunch its own hosts.
    unrestricted: _unrestricted,
    limitHosts: _limitHosts,
    ...unmapped
  } = options;
  noneLeft(unmapped);
  return {
    inventory: inventoryPath,
    extra_vars: extraVars,
    forks,
    verbose_level: verboseLevel,
    become,
    become_method: becomeMethod,
    become_user: becomeUser,
    limit,
    check,
    diff,
    timeout: timeoutSeconds,
    priority,
  };
}
