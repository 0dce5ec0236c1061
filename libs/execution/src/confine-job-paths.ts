import { FlansibleConfig } from '@flansible/config';
import { AnsibleRunOptions, InvalidJobSpecError, JobKind, JobSpec, TextRules, optionalAbsolutePath, requireAbsolutePath } from '@flansible/contracts';
import { isInside } from '@flansible/workspace';
import { realpath, stat } from 'node:fs/promises';

/** A path of a job that does not exist or resolves outside its configured root. */
export class PathConfinementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathConfinementError';
  }
}

export type JobRoots = Pick<FlansibleConfig, 'playbookRoot' | 'inventoryRoot' | 'vaultRoot'>;

/**
 * Real path of `path` (symlinks followed), checked to lie inside the real `root`. The gateway has
 * done the same; the runner checks again because a message could come from anywhere on the bus
 * and files can change between submission and execution.
 */
async function confine(path: string, root: string, what: string, kind: 'file' | 'directory' | 'any'): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new PathConfinementError(`${what} not found: ${path}`);
  }
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch {
    throw new PathConfinementError(`The configured root for the ${what} does not exist: ${root}`);
  }
  if (!isInside(realRoot, real)) throw new PathConfinementError(`${what} is outside its configured root: ${path}`);
  if (kind !== 'any') {
    const stats = await stat(real);
    if (kind === 'file' ? !stats.isFile() : !stats.isDirectory()) {
      throw new PathConfinementError(`${what} is not a ${kind}: ${path}`);
    }
  }
  return real;
}

/** The inventory's real path; no comma, as in a request (Ansible reads `a,b` as a list of hosts). */
function confineInventory(spec: AnsibleRunOptions, roots: JobRoots): Promise<string> {
  return confine(requireAbsolutePath(spec.inventoryPath, 'inventoryPath', TextRules.inventory), roots.inventoryRoot, 'Inventory', 'any');
}

/**
 * The spec with every path replaced by its real path, each inside its root: inventories in the
 * inventory root, playbooks and git checkouts in the playbook root, vault password files in the
 * vault root. Rejects with PathConfinementError (or InvalidJobSpecError for a malformed path),
 * whose message is the one-line reason.
 */
export async function confineJobPaths<T extends JobSpec>(spec: T, roots: JobRoots): Promise<T> {
  switch (spec.kind) {
    case JobKind.Command:
      return { ...spec, inventoryPath: await confineInventory(spec, roots) };
    case JobKind.Playbook: {
      const vaultFile = optionalAbsolutePath(spec.vaultFile, 'vaultFile');
      return {
        ...spec,
        inventoryPath: await confineInventory(spec, roots),
        playbookDir: await confine(requireAbsolutePath(spec.playbookDir, 'playbookDir'), roots.playbookRoot, 'Playbook directory', 'directory'),
        playbookPath: await confine(requireAbsolutePath(spec.playbookPath, 'playbookPath'), roots.playbookRoot, 'Playbook', 'file'),
        ...(vaultFile !== undefined ? { vaultFile: await confine(vaultFile, roots.vaultRoot, 'Vault password file', 'file') } : {}),
      };
    }
    case JobKind.Git:
      return {
        ...spec,
        repoDir: await confine(requireAbsolutePath(spec.repoDir, 'repoDir'), roots.playbookRoot, 'Repository directory', 'directory'),
      };
    default:
      throw new InvalidJobSpecError(`Unknown job kind: ${String((spec as { kind: unknown }).kind)}`);
  }
}
