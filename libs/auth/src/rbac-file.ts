import { readFileSync } from 'node:fs';

/** One entry of rbac.json, in the original Flansible format plus an optional admin flag. */
export interface RbacEntry {
  user: string;
  password: string;
  inventories: string[];
  admin?: boolean;
}

export class RbacFileError extends Error {}

/** Reads and checks rbac.json; throws RbacFileError with a one-line reason. */
export function readRbacFile(file: string): RbacEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = (raw as { rbac?: unknown })?.rbac;
  if (!Array.isArray(list)) throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} must hold {"rbac": [...]}`);
  const seen = new Set<string>();
  return list.map((entry: Partial<RbacEntry>, index) => {
    const where = `FLANSIBLE_RBAC_FILE ${file}: entry ${index}`;
    if (typeof entry?.user !== 'string' || !entry.user) throw new RbacFileError(`${where} needs a "user" string`);
    if (typeof entry.password !== 'string' || !entry.password) throw new RbacFileError(`${where} needs a "password" string`);
    const inventories = entry.inventories ?? [];
    if (!Array.isArray(inventories) || inventories.some((i) => typeof i !== 'string')) {
      throw new RbacFileError(`${where} "inventories" must be a list of strings`);
    }
    if (entry.admin !== undefined && typeof entry.admin !== 'boolean') throw new RbacFileError(`${where} "admin" must be a boolean`);
    if (seen.has(entry.user)) throw new RbacFileError(`${where} repeats user "${entry.user}"`);
    seen.add(entry.user);
    return { user: entry.user, password: entry.password, inventories, admin: entry.admin };
  });
}
