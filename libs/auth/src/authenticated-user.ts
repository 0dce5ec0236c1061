import { ApiTokenScope } from '@flansible/contracts';

/**
 * Optional per-user limits from rbac.json. An absent limit means "no limit beyond the global
 * policy", so rbac.json files written for the original Flansible keep working; the exceptions
 * are vault files, which a non-admin may use only when listed, and git, only when granted.
 */
export interface UserLimits {
  /** Ad-hoc modules this user may run (short or fully qualified names); absent: any the global allow-list allows. */
  modules?: readonly string[];
  /** Globs, relative to the playbook root, of playbooks this user may run; absent: any. */
  playbooks?: readonly string[];
  /**
   * Globs, relative to the vault root, of the vault password files this user may use, matched
   * against the real path. Absent: none (a vault password opens secrets, so nobody gets it by default).
   */
  vaultFiles?: readonly string[];
  /** May use become (privilege escalation). Default true. */
  become: boolean;
  /**
   * May update git repositories (POST /api/git and update_git_repo). Default false: a pull
   * changes the shared playbook root, so what every user runs (unlike the original Flansible).
   */
  git: boolean;
  /**
   * Highest verbose_level this user may ask for. Default 1: from -vv on, Ansible prints task
   * arguments and results, decrypted vault values included.
   */
  maxVerbosity: number;
  /** May ask for `--diff`, which prints changed content (templated secrets too). Default false. */
  diff: boolean;
  /** The only tags this user may name in tags and skip_tags; absent: any (never/always rules apply still). */
  tags?: readonly string[];
}

/** The API token a request came with: its user's rights, narrowed by the scope. */
export interface AuthenticatingToken {
  id: string;
  scope: ApiTokenScope;
}

/** Who made a request, as the guard leaves it on the request. */
export interface AuthenticatedUser {
  name: string;
  /** May use every inventory: the user named `admin`, or any entry with "admin": true. */
  isAdmin: boolean;
  /** Inventories as listed in rbac.json (names or paths), for non-admins. */
  inventories: readonly string[];
  limits: UserLimits;
  /** Set when the request came with an API token rather than a password. */
  token?: AuthenticatingToken;
}
