import { ForbiddenException, Injectable } from '@nestjs/common';
import picomatch from 'picomatch';
import { relative } from 'node:path';
import { FlansibleConfig } from '@flansible/config';
import { controllerSideUse, JobKind, JobSpec, moduleArgumentKeys, moduleRuleKey } from '@flansible/contracts';
import { PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { AuthenticatedUser } from './authenticated-user';

/** Variables Ansible reads as connection and behaviour settings (ansible_connection=local, ...). */
const ANSIBLE_VARIABLE = /^ansible_/i;

/** What a job reads or changes, for the read check. */
export interface JobOwnership {
  submittedBy: string;
  /** Real path of the job's inventory (null for git jobs). */
  inventory: string | null;
}

/**
 * Why a rule refuses: `message` answers the request (403); `subject` names what the stored job
 * uses, for the re-check before and while it runs ("submitter no longer allowed: <subject>").
 */
export interface Refusal {
  subject: string;
  message: string;
}

/** Tags Ansible gives a meaning: `never` tasks run only when selected, `always` tasks unless skipped. */
const NEVER_TAG = 'never';
/** skip_tags values that would skip `always` tasks (the safety asserts a playbook always runs). */
const SKIP_TAGS_RESERVED = new Set(['always', 'all', 'tagged', 'untagged']);

/** The become fields of a request or of a stored job. */
export interface BecomeRequest {
  become?: boolean;
  becomeMethod?: string;
  becomeUser?: string;
}

const refuse = (subject: string, message: string): Refusal => ({ subject, message });

/** Each authorize* method throws the refusal its rule returns; reauthorize collects them instead. */
const enforce = (refusal: Refusal | null): void => {
  if (refusal) throw new ForbiddenException(refusal.message);
};

/**
 * Who may do what: inventories, ad-hoc modules, playbooks, vault files, become, git, verbosity,
 * diff, tags, and whose jobs a user may read. Admins may use every inventory and are bound only
 * by the global module allow-list. Every rule is one `*Refusal` method, shared by the request
 * checks (authorize*) and by the re-check of a stored job (reauthorize).
 */
@Injectable()
export class JobPolicyService {
  private readonly allowAllModules: boolean;
  private readonly globalModules: ReadonlySet<string>;

  constructor(
    private readonly config: FlansibleConfig,
    private readonly workspace: WorkspaceService,
  ) {
    this.allowAllModules = config.adhocModules.includes('*');
    this.globalModules = new Set(config.adhocModules);
  }

  /**
   * Checks access to `inventory` as the request named it (or the default) and returns its
   * real path. Refuses before revealing whether an inventory the user may not use exists.
   */
  authorizeInventory(user: AuthenticatedUser, inventory: string): string {
    const requested = this.workspace.locateInventory(inventory);
    enforce(this.inventoryRefusal(user, requested.path, inventory));
    return this.workspace.resolveInventory(inventory);
  }

  authorizeModule(user: AuthenticatedUser, module: string): void {
    enforce(this.moduleRefusal(user, module));
  }

  /**
   * A non-admin's ad-hoc arguments may not make Ansible read, write or evaluate anything on the
   * Flansible host (MODULE_ARGUMENT_RULES). The guard inside Ansible checks the same table again
   * against what Ansible's own parser read.
   */
  authorizeModuleArguments(user: AuthenticatedUser, module: string, args: string | Record<string, unknown> | undefined): void {
    enforce(this.moduleArgumentsRefusal(user, module, args));
  }

  /**
   * Which hosts a pattern reaches depends on the inventory, which only Ansible reads exactly: the
   * guard inside Ansible (flansible_launch.py) is the one rule on hosts. It lets a non-admin name
   * `localhost` (or 127.0.0.1, ::1) when the job's inventory lists it, and ends the job before
   * anything runs when the name would reach Ansible's implicit localhost instead. So the gateway
   * does not judge host names; it refuses only what costs the Flansible host itself (regexes).
   */
  authorizeHostPattern(user: AuthenticatedUser, hostPattern: string): void {
    if (!user.isAdmin) refuseRegexPattern('host_pattern', hostPattern);
  }

  /**
   * `limit` is a host pattern too, applied to ad-hoc commands and playbooks alike, so a regex in
   * it is refused the same way.
   */
  authorizeLimit(user: AuthenticatedUser, limit: string | undefined): void {
    if (user.isAdmin || limit === undefined) return;
    refuseRegexPattern('limit', limit);
  }

  authorizePlaybook(user: AuthenticatedUser, playbookPath: string): void {
    enforce(this.playbookRefusal(user, playbookPath));
  }

  /**
   * Checks access to a vault password file as the request named it and returns its real path.
   * The user's `vault_files` globs are matched against the real path (a link inside the root
   * counts as the file it names), before revealing whether the file exists.
   */
  authorizeVaultFile(user: AuthenticatedUser, vaultFile: string): string {
    if (!user.isAdmin) enforce(this.vaultFileRefusal(user, this.workspace.locateVaultFile(vaultFile).path, vaultFile));
    return this.workspace.resolveVaultFile(vaultFile);
  }

  authorizeBecome(user: AuthenticatedUser, request: { become?: boolean; become_method?: string; become_user?: string }): void {
    enforce(this.becomeRefusal(user, { become: request.become, becomeMethod: request.become_method, becomeUser: request.become_user }));
  }

  authorizeGit(user: AuthenticatedUser): void {
    enforce(this.gitRefusal(user));
  }

  /** Refuses `ansible_*` keys (connection and behaviour variables) from non-admins. */
  authorizeVariables(user: AuthenticatedUser, field: string, values: Record<string, unknown> | string | undefined): void {
    enforce(this.variablesRefusal(user, field, values));
  }

  /**
   * verbose_level above the user's max_verbosity (default 1) and diff (default refused) are rights
   * an admin grants: from -vv on, and with --diff, Ansible prints values that vault decrypted.
   */
  authorizeOutputDetail(user: AuthenticatedUser, request: { verboseLevel?: number; diff?: boolean }): void {
    enforce(this.outputDetailRefusal(user, request));
  }

  /** tags / skip_tags: see tagsRefusal. */
  authorizeTags(user: AuthenticatedUser, tags: readonly string[] | undefined, skipTags: readonly string[] | undefined): void {
    enforce(this.tagsRefusal(user, tags, skipTags));
  }

  /**
   * Whether `user` (as rbac.json says now) may still run exactly this stored job: null when so,
   * else a one-line reason. The same rules as a submission, against the spec's resolved paths.
   */
  reauthorize(user: AuthenticatedUser | undefined, spec: JobSpec): string | null {
    if (!user) return 'submitter no longer allowed: user removed';
    if (user.isAdmin) return null;
    const refusal = this.specRefusals(user, spec).find((r) => r !== null);
    return refusal ? `submitter no longer allowed: ${refusal.subject}` : null;
  }

  /** Non-admins read only jobs they submitted or that ran on an inventory they may use. */
  canRead(user: AuthenticatedUser, job: JobOwnership): boolean {
    if (isSubmitterOrAdmin(user, job)) return true;
    return job.inventory !== null && this.allowedInventoryPaths(user).has(job.inventory);
  }

  /**
   * Cancelling is reserved to the submitter and admins: a shared inventory lets other users read
   * a job, not stop it.
   */
  canControl(user: AuthenticatedUser, job: JobOwnership): boolean {
    return isSubmitterOrAdmin(user, job);
  }

  /**
   * Relaunching runs the job's stored request again under the caller's name: its extra vars
   * (shown to nobody) and module arguments (shown to other readers by name only) included. So
   * only the submitter and admins may, as with cancel; the caller's rights are checked again
   * as for any submission.
   */
  canRelaunch(user: AuthenticatedUser, job: JobOwnership): boolean {
    return isSubmitterOrAdmin(user, job);
  }

  /**
   * Whether the user may see the values of a job's module arguments (which may hold passwords):
   * the submitter and admins only; other readers see the argument names.
   */
  canSeeArguments(user: AuthenticatedUser, job: JobOwnership): boolean {
    return isSubmitterOrAdmin(user, job);
  }

  /** Real paths of the inventories a non-admin may use (and so read jobs of). */
  readableInventories(user: AuthenticatedUser): string[] {
    return [...this.allowedInventoryPaths(user)];
  }

  private specRefusals(user: AuthenticatedUser, spec: JobSpec): (Refusal | null)[] {
    if (spec.kind === JobKind.Git) return [this.gitRefusal(user)];
    const run = [
      this.inventoryRefusal(user, spec.inventoryPath, spec.inventoryPath),
      this.becomeRefusal(user, spec),
      this.variablesRefusal(user, 'extra_vars', spec.extraVars),
      this.outputDetailRefusal(user, spec),
      // Written for an admin: such a job runs without the guard inside Ansible.
      spec.unrestricted ? refuse('unrestricted (admin) run', 'User may not run unrestricted') : null,
    ];
    if (spec.kind === JobKind.Command) {
      return [
        this.moduleRefusal(user, spec.module),
        this.variablesRefusal(user, 'module_args', spec.moduleArgs),
        this.moduleArgumentsRefusal(user, spec.module, spec.moduleArgs),
        ...run,
      ];
    }
    return [
      this.playbookRefusal(user, spec.playbookPath),
      spec.vaultFile === undefined ? null : this.vaultFileRefusal(user, spec.vaultFile, spec.vaultFile),
      spec.updateGitRepo ? this.gitRefusal(user) : null,
      this.tagsRefusal(user, spec.tags, spec.skipTags),
      ...run,
    ];
  }

  /** `path` is the real path; `named` is how the request named it. */
  private inventoryRefusal(user: AuthenticatedUser, path: string, named: string): Refusal | null {
    if (user.isAdmin || this.allowedInventoryPaths(user).has(path)) return null;
    return refuse(`inventory ${path}`, `User does not have access to inventory ${named}`);
  }

  private moduleRefusal(user: AuthenticatedUser, module: string): Refusal | null {
    if (!this.allowAllModules && !matchesModule(this.globalModules, module)) {
      return refuse(`module ${module}`, `Module ${module} is not in the ad-hoc module allow-list`);
    }
    const own = user.limits.modules;
    if (!user.isAdmin && own && !matchesModule(new Set(own), module)) return refuse(`module ${module}`, `User may not run module ${module}`);
    return null;
  }

  private moduleArgumentsRefusal(user: AuthenticatedUser, module: string, args: string | Record<string, unknown> | undefined): Refusal | null {
    if (user.isAdmin) return null;
    const refusal = controllerSideUse(module, args);
    return refusal ? refuse(`module arguments (${refusal})`, refusal) : null;
  }

  private playbookRefusal(user: AuthenticatedUser, playbookPath: string): Refusal | null {
    const globs = user.limits.playbooks;
    if (user.isAdmin || !globs) return null;
    const rel = relative(this.workspace.playbookRoot(), playbookPath);
    return picomatch.isMatch(rel, [...globs], { dot: false }) ? null : refuse(`playbook ${playbookPath}`, `User may not run playbook ${rel}`);
  }

  /** `realPath` is what the globs are matched against; `named` is how the request named it. */
  private vaultFileRefusal(user: AuthenticatedUser, realPath: string, named: string): Refusal | null {
    if (user.isAdmin) return null;
    const rel = relative(this.workspace.vaultRoot(), realPath);
    const globs = user.limits.vaultFiles ?? [];
    if (globs.length && picomatch.isMatch(rel, [...globs], { dot: false })) return null;
    return refuse(`vault file ${realPath}`, `User may not use vault file ${named}`);
  }

  private becomeRefusal(user: AuthenticatedUser, request: BecomeRequest): Refusal | null {
    const wantsBecome = request.become === true || request.becomeMethod !== undefined || request.becomeUser !== undefined;
    return wantsBecome && !user.isAdmin && !user.limits.become ? refuse('become', 'User may not use become') : null;
  }

  private gitRefusal(user: AuthenticatedUser): Refusal | null {
    return !user.isAdmin && !user.limits.git ? refuse('git', 'User may not update git repositories') : null;
  }

  private variablesRefusal(user: AuthenticatedUser, field: string, values: Record<string, unknown> | string | undefined): Refusal | null {
    if (user.isAdmin || values === undefined) return null;
    const refused = moduleArgumentKeys(values).find((key) => ANSIBLE_VARIABLE.test(key));
    return refused ? refuse(`${field} ${refused}`, `${field} may not set ${refused}: ansible_* variables are reserved to admins`) : null;
  }

  private outputDetailRefusal(user: AuthenticatedUser, request: { verboseLevel?: number; diff?: boolean }): Refusal | null {
    if (user.isAdmin) return null;
    const { maxVerbosity } = user.limits;
    if (request.verboseLevel !== undefined && request.verboseLevel > maxVerbosity) {
      return refuse(
        `verbose_level ${request.verboseLevel}`,
        `verbose_level ${request.verboseLevel} is above this user's max_verbosity (${maxVerbosity}): higher levels print decrypted vault values`,
      );
    }
    if (request.diff === true && !user.limits.diff) {
      return refuse('diff', 'diff is not granted to this user: it prints changed content, decrypted vault values included');
    }
    return null;
  }

  /**
   * Tags change what a playbook runs. A non-admin may not select `never` tasks by name nor skip
   * `always` ones (or everything tagged) and, when the entry lists tags, may name only those.
   * Ansible also runs a `never` task when another of its tags is selected: the allow-list is what
   * keeps that out of reach (README).
   */
  private tagsRefusal(user: AuthenticatedUser, tags: readonly string[] | undefined, skipTags: readonly string[] | undefined): Refusal | null {
    if (user.isAdmin) return null;
    const allowed = user.limits.tags;
    // The special tags are refused unless the user's own list names them.
    const listed = (tag: string) => allowed?.includes(tag) ?? false;
    if (tags?.includes(NEVER_TAG) && !listed(NEVER_TAG)) {
      return refuse('tag never', 'tags may not name never: never-tagged tasks run only for users whose tags list names never');
    }
    const reserved = skipTags?.find((tag) => SKIP_TAGS_RESERVED.has(tag) && !listed(tag));
    if (reserved !== undefined) {
      return refuse(`skip_tags ${reserved}`, `skip_tags may not name ${reserved}: it would skip tasks tagged always`);
    }
    if (!allowed) return null;
    for (const [field, list] of [['tags', tags], ['skip_tags', skipTags]] as const) {
      const unlisted = list?.find((tag) => !allowed.includes(tag));
      if (unlisted !== undefined) return refuse(`${field} ${unlisted}`, `${field} may not name ${unlisted}: not among the tags this user may use`);
    }
    return null;
  }

  private allowedInventoryPaths(user: AuthenticatedUser): Set<string> {
    const paths = new Set<string>();
    for (const listed of user.inventories) {
      try {
        paths.add(this.workspace.locateInventory(listed).path);
      } catch (err) {
        // A listed inventory outside the root can never be used: jobs only run inside it.
        if (!(err instanceof PathOutsideRootError)) throw err;
      }
    }
    return paths;
  }
}

function isSubmitterOrAdmin(user: AuthenticatedUser, job: JobOwnership): boolean {
  return user.isAdmin || job.submittedBy === user.name;
}

/**
 * A `~` part is a Python regular expression Ansible matches against every host name; a
 * backtracking one (`~(.*)*Z`) can pin a CPU of the controller, so only admins may use them.
 * Refused wherever the `~` stands: Ansible accepts it after `!`/`&` and inside `:`/`,` lists.
 */
function refuseRegexPattern(field: string, pattern: string): void {
  if (pattern.includes('~')) enforce(refuse(`${field} ${pattern}`, `${field} may not use regular expressions (~): they are reserved to admins`));
}

function matchesModule(allowed: ReadonlySet<string>, module: string): boolean {
  // ansible.builtin.* and ansible.legacy.* modules may be named short in allow-lists.
  return allowed.has(module) || allowed.has(moduleRuleKey(module));
}
