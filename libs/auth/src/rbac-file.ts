import { readFileSync } from 'node:fs';
import { FieldGrammar, JobRange, isInRange } from '@flansible/contracts';
import { UserLimits } from './authenticated-user';
import { looksLikePasswordHash, parsePasswordHash, PasswordHash, PasswordHashError } from './password-hash';

/** How an entry's password is kept: a scrypt hash (recommended) or plaintext (deprecated, warned about). */
export type StoredCredential = { kind: 'hash'; hash: PasswordHash } | { kind: 'plaintext'; password: string };

/**
 * One entry of rbac.json: the original Flansible format (user, password, inventories) plus
 * optional fields. `password` holds either a `$scrypt$...` hash or, as before, plaintext.
 */
export interface RbacEntry {
  user: string;
  /** The `password` field as written. */
  password: string;
  credential: StoredCredential;
  inventories: string[];
  admin?: boolean;
  limits: UserLimits;
}

export class RbacFileError extends Error {}

const KNOWN_FIELDS = new Set(['user', 'password', 'inventories', 'admin', 'modules', 'playbooks', 'vault_files', 'become', 'git', 'max_verbosity', 'diff', 'tags']);
/** Defaults for non-admins: -v shows no task arguments or results, and diff shows changed content. */
export const DEFAULT_MAX_VERBOSITY = 1;
const CONTROL_CHARACTERS = /[\0-\x1f\x7f]/;

/** Reads and checks rbac.json; throws RbacFileError with a one-line reason naming FLANSIBLE_RBAC_FILE. */
export function readRbacFile(file: string): RbacEntry[] {
  return parseRbacFile(readRbacText(file), file);
}

/** The file's text, or RbacFileError saying why it cannot be read. */
export function readRbacText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} cannot be read: ${firstLine(err)}`);
  }
}

/** Checks the text of an rbac.json; `file` only names it in errors. */
export function parseRbacFile(text: string, file: string): RbacEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} is not valid JSON: ${firstLine(err)}`);
  }
  const list = (raw as { rbac?: unknown })?.rbac;
  if (!Array.isArray(list)) throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} must hold {"rbac": [...]}`);
  const seen = new Set<string>();
  return list.map((item: unknown, index) => {
    const entry = parseEntry(item, `FLANSIBLE_RBAC_FILE ${file}: entry ${index}`);
    if (seen.has(entry.user)) throw new RbacFileError(`FLANSIBLE_RBAC_FILE ${file}: entry ${index} repeats user "${entry.user}"`);
    seen.add(entry.user);
    return entry;
  });
}

function parseEntry(item: unknown, at: string): RbacEntry {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new RbacFileError(`${at} must be an object`);
  const entry = item as Record<string, unknown>;
  const { user } = entry;
  // HTTP Basic cannot carry a user name with a colon, so such an entry could never log in.
  if (typeof user !== 'string' || !user || user.includes(':') || CONTROL_CHARACTERS.test(user)) {
    throw new RbacFileError(`${at} needs a "user" string (not empty, no colon or control characters)`);
  }
  const where = `${at} (user "${user}")`;
  // A misspelt limit ("becom": false) silently ignored would grant what it meant to deny.
  const unknown = Object.keys(entry).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length) throw new RbacFileError(`${where} has unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return {
    user,
    password: entry.password as string,
    credential: parseCredential(entry.password, where),
    inventories: stringList(entry.inventories ?? [], 'inventories', where),
    admin: optionalBoolean(entry.admin, 'admin', where),
    limits: {
      modules: entry.modules === undefined ? undefined : moduleList(entry.modules, where),
      playbooks: entry.playbooks === undefined ? undefined : relativeGlobs(entry.playbooks, 'playbooks', 'playbook root', where),
      vaultFiles: entry.vault_files === undefined ? undefined : relativeGlobs(entry.vault_files, 'vault_files', 'vault root', where),
      become: optionalBoolean(entry.become, 'become', where) ?? true,
      // The playbook root is shared: one user's pull changes what every user runs.
      git: optionalBoolean(entry.git, 'git', where) ?? false,
      maxVerbosity: verbosity(entry.max_verbosity, where),
      diff: optionalBoolean(entry.diff, 'diff', where) ?? false,
      tags: entry.tags === undefined ? undefined : tagList(entry.tags, where),
    },
  };
}

function parseCredential(password: unknown, where: string): StoredCredential {
  if (typeof password !== 'string' || !password) throw new RbacFileError(`${where} needs a "password" string (a hash from npm run hash-password)`);
  if (!looksLikePasswordHash(password)) {
    // passport-http splits Basic credentials at every colon, so such a password could never log in.
    if (password.includes(':')) throw new RbacFileError(`${where} "password" must not contain a colon`);
    return { kind: 'plaintext', password };
  }
  try {
    return { kind: 'hash', hash: parsePasswordHash(password) };
  } catch (err) {
    if (!(err instanceof PasswordHashError)) throw err;
    throw new RbacFileError(`${where} "password" looks like a hash but ${err.message}`);
  }
}

function stringList(value: unknown, field: string, where: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !item)) {
    throw new RbacFileError(`${where} "${field}" must be a list of non-empty strings`);
  }
  return value as string[];
}

function moduleList(value: unknown, where: string): string[] {
  const modules = stringList(value, 'modules', where);
  // The grammar of the module field of a request: a name outside it could never be asked for.
  const bad = modules.find((name) => !FieldGrammar.module.test(name));
  if (bad !== undefined) throw new RbacFileError(`${where} "modules" has an invalid module name "${bad}"`);
  return modules;
}

function verbosity(value: unknown, where: string): number {
  if (value === undefined) return DEFAULT_MAX_VERBOSITY;
  const { min, max } = JobRange.verboseLevel;
  if (typeof value !== 'number' || !isInRange(value, JobRange.verboseLevel)) {
    throw new RbacFileError(`${where} "max_verbosity" must be an integer from ${min} to ${max}`);
  }
  return value;
}

function tagList(value: unknown, where: string): string[] {
  const tags = stringList(value, 'tags', where);
  // The grammar of the tag fields of a request.
  const bad = tags.find((tag) => !FieldGrammar.tag.test(tag));
  if (bad !== undefined) throw new RbacFileError(`${where} "tags" has an invalid tag name "${bad}"`);
  return tags;
}

/** Globs relative to a root: no absolute path and no `..`, which no real path inside the root could match. */
function relativeGlobs(value: unknown, field: string, root: string, where: string): string[] {
  const globs = stringList(value, field, where);
  for (const glob of globs) {
    if (glob.startsWith('/') || glob.split('/').includes('..') || CONTROL_CHARACTERS.test(glob)) {
      throw new RbacFileError(`${where} "${field}" entry "${glob}" must be a glob relative to the ${root}`);
    }
  }
  return globs;
}

function optionalBoolean(value: unknown, field: string, where: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new RbacFileError(`${where} "${field}" must be true or false`);
  return value;
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0];
