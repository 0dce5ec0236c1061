import { Injectable } from '@nestjs/common';
import { lstatSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FlansibleConfig } from '@flansible/config';
import { PathNotFoundError, resolveInsideRoot } from './resolve-inside-root';

/**
 * A directory that is not itself the top of a git checkout. A 404 like any other missing path:
 * git would otherwise search upward and act on whatever repository encloses it.
 */
export class NotAGitRepositoryError extends PathNotFoundError {
  constructor(dir: string) {
    super(`Not a git repository: ${dir}`);
    this.name = 'NotAGitRepositoryError';
  }
}

export interface PlaybookLocation {
  playbookDir: string;
  playbookPath: string;
}

/** One entry of GET /api/listplaybooks, in the shape POST /api/ansibleplaybook takes. */
export interface ListedPlaybook {
  playbook: string;
  playbook_dir: string;
}

/** Directories that hold Ansible internals rather than playbooks. */
const NOT_PLAYBOOK_DIRS = new Set([
  'group_vars',
  'host_vars',
  'vars',
  'handlers',
  'tasks',
  'defaults',
  'templates',
  'files',
  'meta',
  'roles',
  'library',
  'filter_plugins',
  'module_utils',
  'node_modules',
]);

const isDirectory = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

/**
 * The server-side files jobs may use: playbooks, inventories, vault files and git checkouts,
 * each confined to its configured root.
 */
@Injectable()
export class WorkspaceService {
  constructor(private readonly config: FlansibleConfig) {}

  /** Real path of the playbook root. */
  playbookRoot(): string {
    return resolveInsideRoot(this.config.playbookRoot, '.', 'playbook_root').path;
  }

  resolvePlaybook(playbookDir: string, playbook: string): PlaybookLocation {
    const dir = resolveInsideRoot(this.config.playbookRoot, playbookDir, 'playbook_dir');
    if (!dir.exists || !isDirectory(dir.path)) throw new PathNotFoundError(`Directory not found: ${playbookDir}`);
    const file = resolveInsideRoot(dir.path, playbook, 'playbook');
    // The playbook must also stay under the playbook root, not only under its directory.
    resolveInsideRoot(this.config.playbookRoot, file.path, 'playbook');
    if (!file.exists || !isFile(file.path)) {
      throw new PathNotFoundError(`Playbook not found in folder. Path does not exist: ${join(playbookDir, playbook)}`);
    }
    return { playbookDir: dir.path, playbookPath: file.path };
  }

  /**
   * Real path of a git checkout inside the playbook root: the directory must be the top of its
   * own checkout, with its `.git` a real directory in it. Not a link or a `gitdir:` file, which
   * could name a repository anywhere (the Flansible checkout itself, say). The gateway checks at
   * submission, the runner again before it runs git (the directory can change in between).
   */
  resolveRepoDir(playbookDir: string): string {
    const dir = resolveInsideRoot(this.config.playbookRoot, playbookDir, 'playbook_dir');
    if (!dir.exists || !isDirectory(dir.path)) throw new PathNotFoundError(`Directory not found: ${playbookDir}`);
    const dotGit = lstatSync(join(dir.path, '.git'), { throwIfNoEntry: false });
    if (!dotGit?.isDirectory()) throw new NotAGitRepositoryError(playbookDir);
    return dir.path;
  }

  /** Real path of an inventory name or path, whether or not it exists (access is checked on it). */
  locateInventory(inventory: string): { path: string; exists: boolean } {
    return resolveInsideRoot(this.config.inventoryRoot, inventory, 'inventory');
  }

  resolveInventory(inventory: string): string {
    const found = this.locateInventory(inventory);
    if (!found.exists) throw new PathNotFoundError(`Inventory path not found: ${inventory}`);
    return found.path;
  }

  /** Real path of the vault root. */
  vaultRoot(): string {
    return resolveInsideRoot(this.config.vaultRoot, '.', 'vault_root').path;
  }

  /** Real path of a vault password file, whether or not it exists (access is checked on it). */
  locateVaultFile(vaultFile: string): { path: string; exists: boolean } {
    return resolveInsideRoot(this.config.vaultRoot, vaultFile, 'vault_file');
  }

  resolveVaultFile(vaultFile: string): string {
    const found = this.locateVaultFile(vaultFile);
    if (!found.exists || !isFile(found.path)) throw new PathNotFoundError(`Vault file not found: ${vaultFile}`);
    return found.path;
  }

  /** Every .yml/.yaml under the playbook root, leaving out vars, roles and other internals. */
  async listPlaybooks(): Promise<ListedPlaybook[]> {
    const root = this.playbookRoot();
    const found: ListedPlaybook[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        // Symlinked directories are not followed: a link could loop or leave the root.
        if (entry.isDirectory()) {
          if (!NOT_PLAYBOOK_DIRS.has(entry.name)) await walk(path);
        } else if ((entry.isFile() || entry.isSymbolicLink()) && /\.ya?ml$/i.test(entry.name)) {
          if (isFile(path)) found.push({ playbook: entry.name, playbook_dir: dir });
        }
      }
    };
    await walk(root);
    return found.sort((a, b) => a.playbook_dir.localeCompare(b.playbook_dir) || a.playbook.localeCompare(b.playbook));
  }
}
