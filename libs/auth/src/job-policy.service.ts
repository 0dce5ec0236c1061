import { ForbiddenException, Injectable } from '@nestjs/common';
import picomatch from 'picomatch';
import { relative } from 'node:path';
import { FlansibleConfig } from '@flansible/config';
import { controllerSideUse, moduleArgumentKeys } from '@flansible/contracts';
import { PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { AuthenticatedUser } from './authenticated-user';

/** Host names Ansible runs on the Flansible host itself (implicit localhost, connection local). */
const LOCALHOST_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
/** Collections whose modules may be named short in allow-lists. */
const BUILTIN_PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];
/** Variables Ansible reads as connection and behaviour settings (ansible_connection=local, ...). */
const ANSIBLE_VARIABLE = /^ansible_/i;

/** What a job reads or changes, for the read check. */
export interface JobOwnership {
  submittedBy: string;
  /** Real path of the job's inventory (null for git jobs). */
  inventory: string | null;
}

const forbid = (message: string): never => {
  throw new ForbiddenException(message);
};

/**
 * Who may do what: inventories, ad-hoc modules, playbooks, vault files, become, git, and whose jobs a user
 * may read. Admins may use every inventory and are bound only by the global module allow-list.
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
    if (!user.isAdmin && !this.allowedInventoryPaths(user).has(requested.path)) {
      forbid(`User does not have access to inventory ${inventory}`);
    }
    return this.workspace.resolveInventory(inventory);
  }

  authorizeModule(user: AuthenticatedUser, module: string): void {
    if (!this.allowAllModules && !matchesModule(this.globalModules, module)) {
      forbid(`Module ${module} is not in the ad-hoc module allow-list`);
    }
    const own = user.limits.modules;
    if (!user.isAdmin && own && !matchesModule(new Set(own), module)) forbid(`User may not run module ${module}`);
  }

  /**
   * A non-admin's ad-hoc arguments may not make Ansible read, write or evaluate anything on the
   * Flansible host (MODULE_ARGUMENT_RULES). The guard inside Ansible checks the same table again
   * against what Ansible's own parser read.
   */
  authorizeModuleArguments(user: AuthenticatedUser, module: string, args: string | Record<string, unknown> | undefined): void {
    if (user.isAdmin) return;
    const refusal = controllerSideUse(module, args);
    if (refusal) forbid(refusal);
  }

  /**
   * A non-admin may not aim at the Flansible host through Ansible's implicit localhost (which
   * exists whatever the inventory says): target it through a group or `all` instead.
   */
  authorizeHostPattern(user: AuthenticatedUser, hostPattern: string): void {
    if (user.isAdmin) return;
    refuseRegexPattern('host_pattern', hostPattern);
    const names = hostPattern.split(/[:,]/).map((part) => part.replace(/^[!&]/, '').toLowerCase());
    const local = names.find((name) => LOCALHOST_NAMES.has(name));
    if (local) forbid(`User may not target ${local} by name; use a group of the inventory or all`);
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
    const globs = user.limits.playbooks;
    if (user.isAdmin || !globs) return;
    const rel = relative(this.workspace.playbookRoot(), playbookPath);
    if (!picomatch.isMatch(rel, [...globs], { dot: false })) forbid(`User may not run playbook ${rel}`);
  }

  /**
   * Checks access to a vault password file as the request named it and returns its real path.
   * The user's `vault_files` globs are matched against the real path (a link inside the root
   * counts as the file it names), before revealing whether the file exists.
   */
  authorizeVaultFile(user: AuthenticatedUser, vaultFile: string): string {
    if (!user.isAdmin) {
      const rel = relative(this.workspace.vaultRoot(), this.workspace.locateVaultFile(vaultFile).path);
      const globs = user.limits.vaultFiles ?? [];
      if (!globs.length || !picomatch.isMatch(rel, [...globs], { dot: false })) forbid(`User may not use vault file ${vaultFile}`);
    }
    return this.workspace.resolveVaultFile(vaultFile);
  }

  authorizeBecome(user: AuthenticatedUser, request: { become?: boolean; become_method?: string; become_user?: string }): void {
    const wantsBecome = request.become === true || request.become_method !== undefined || request.become_user !== undefined;
    if (wantsBecome && !user.isAdmin && !user.limits.become) forbid('User may not use become');
  }

  authorizeGit(user: AuthenticatedUser): void {
    if (!user.isAdmin && !user.limits.git) forbid('User may not update git repositories');
  }

  /** Refuses `ansible_*` keys (connection and behaviour variables) from non-admins. */
  authorizeVariables(user: AuthenticatedUser, field: string, values: Record<string, unknown> | string | undefined): void {
    if (user.isAdmin || values === undefined) return;
    const keys = moduleArgumentKeys(values);
    const refused = keys.find((key) => ANSIBLE_VARIABLE.test(key));
    if (refused) forbid(`${field} may not set ${refused}: ansible_* variables are reserved to admins`);
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
  if (pattern.includes('~')) forbid(`${field} may not use regular expressions (~): they are reserved to admins`);
}

function matchesModule(allowed: ReadonlySet<string>, module: string): boolean {
  if (allowed.has(module)) return true;
  const prefix = BUILTIN_PREFIXES.find((p) => module.startsWith(p));
  return prefix !== undefined && allowed.has(module.slice(prefix.length));
}
