import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A user-supplied path that resolves (after symlinks) outside the root it must stay in. */
export class PathOutsideRootError extends Error {
  constructor(readonly what: string, readonly given: string) {
    super(`${what} is outside its configured root: ${given}`);
    this.name = 'PathOutsideRootError';
  }
}

/** A path inside its root that does not exist; the message is the one-line reason clients see. */
export class PathNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathNotFoundError';
  }
}

export interface ResolvedPath {
  /** Real absolute path when it exists (symlinks followed), else the normalised absolute path. */
  path: string;
  exists: boolean;
}

function realpathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `given` (relative to `root`, or absolute) to a real path and checks it stays inside
 * `root`, following symlinks, so `..`, absolute paths and links cannot escape.
 * For a path that does not exist, the deepest existing ancestor is resolved instead, so a
 * symlinked parent cannot smuggle a missing path outside either.
 */
export function resolveInsideRoot(root: string, given: string, what: string): ResolvedPath {
  if (given.includes('\0')) throw new PathOutsideRootError(what, given.replace(/\0/g, '\\0'));
  const realRoot = realpathOrNull(root) ?? resolve(root);
  const lexical = resolve(realRoot, given);
  const real = realpathOrNull(lexical);
  if (real !== null) {
    if (!isInside(realRoot, real)) throw new PathOutsideRootError(what, given);
    return { path: real, exists: true };
  }
  let ancestor = lexical;
  let realAncestor: string | null = null;
  while (realAncestor === null) {
    const parent = resolve(ancestor, '..');
    if (parent === ancestor) break;
    ancestor = parent;
    realAncestor = realpathOrNull(ancestor);
  }
  const candidate = realAncestor === null ? lexical : resolve(realAncestor, relative(ancestor, lexical));
  if (!isInside(realRoot, candidate)) throw new PathOutsideRootError(what, given);
  return { path: candidate, exists: false };
}
