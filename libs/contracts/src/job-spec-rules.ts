/**
 * The one table of job field rules, and the checks that apply them. The gateway's request DTOs
 * take their decorators' arguments from here and call the same predicates; the runner's message
 * parser (parseJobMessage) and the code that builds Ansible's and git's argv (invocation.ts)
 * call the checks below. So a value is accepted or refused alike at both ends, by construction.
 */
import { FieldGrammar } from './field-grammar';
import { IntegerRange, isInRange } from './store-limits';

/** A job spec the runner refuses to execute (a message, or a stored job): the message is the one-line reason. */
export class InvalidJobSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobSpecError';
  }
}

/** A string field: its grammar (which also bounds its length) and, for messages, what it must be. */
export interface TextRule {
  readonly grammar: RegExp;
  /** Ends "<field> must be …". */
  readonly must: string;
}

export const TextRules = {
  hostPattern: { grammar: FieldGrammar.hostPattern, must: 'an Ansible host pattern (no spaces, control characters, "@" or leading "-")' },
  module: { grammar: FieldGrammar.module, must: 'a module name such as ping or ansible.builtin.find' },
  becomeMethod: { grammar: FieldGrammar.becomeMethod, must: 'a plugin name such as sudo or su' },
  becomeUser: { grammar: FieldGrammar.becomeUser, must: 'a user name' },
  gitRemote: { grammar: FieldGrammar.gitRemote, must: 'a git remote name' },
  gitBranch: { grammar: FieldGrammar.gitBranch, must: 'a git branch name' },
  inventory: {
    grammar: FieldGrammar.inventory,
    must: 'a name or path inside the inventory root (no control characters, leading "-" or inline host list)',
  },
  path: { grammar: FieldGrammar.path, must: 'a path without control characters or a leading "-"' },
  tag: { grammar: FieldGrammar.tag, must: 'a tag name (letters, digits, _ . : -)' },
} as const satisfies Record<string, TextRule>;

/** A week: no job runs longer, whatever it asks for (the configuration's task_timeout caps it further). */
export const MAX_JOB_SECONDS = 7 * 24 * 3600;

/** Each integer field of a job by its range. */
export const JobRange = {
  /** `--forks`. */
  forks: { min: 1, max: 500 },
  /** `-v` repeated this many times; above 4 Ansible adds nothing. */
  verboseLevel: { min: 0, max: 4 },
  timeoutSeconds: { min: 1, max: MAX_JOB_SECONDS },
  /** Higher runs earlier. */
  priority: { min: 0, max: 9 },
} as const satisfies Record<string, IntegerRange>;

/** Entries of `tags` / `skip_tags` at the most. */
export const MAX_TAGS = 100;

/** Host names a job's limitHosts may list at the most, and the longest name (a relaunch's hosts). */
export const MAX_LIMIT_HOSTS = 10_000;
export const MAX_HOST_NAME_LENGTH = 1024;

/** Whether `value` is a string `rule` allows (its grammar allows no empty string). */
export function followsRule(value: unknown, rule: TextRule): value is string {
  return typeof value === 'string' && rule.grammar.test(value);
}

/** A JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Module arguments: a plain object (its strings reach Ansible marked unsafe, never templated),
 * or a `key=value` string without NUL or Jinja delimiters (Ansible would template it).
 */
export function isModuleArgs(value: unknown): value is string | Record<string, unknown> {
  return (typeof value === 'string' && !value.includes('\0') && !FieldGrammar.jinjaMarker.test(value)) || isPlainObject(value);
}

/** Absent: undefined or null, as the request DTOs (IsOptional) treat both. */
const absent = (value: unknown): value is undefined | null => value === undefined || value === null;

export function requireText(value: unknown, field: string, rule: TextRule): string {
  if (typeof value !== 'string' || value === '') throw new InvalidJobSpecError(`${field} must be a non-empty string`);
  if (!followsRule(value, rule)) throw new InvalidJobSpecError(`${field} must be ${rule.must}, not ${JSON.stringify(value)}`);
  return value;
}

export function optionalText(value: unknown, field: string, rule: TextRule): string | undefined {
  return absent(value) ? undefined : requireText(value, field, rule);
}

/**
 * Absolute paths only (the gateway resolved them), held to `rule` (an inventory's forbids commas);
 * the runner confines them to their roots too.
 */
export function requireAbsolutePath(value: unknown, field: string, rule: TextRule = TextRules.path): string {
  const path = requireText(value, field, rule);
  if (!path.startsWith('/')) throw new InvalidJobSpecError(`${field} must be an absolute path`);
  return path;
}

export function optionalAbsolutePath(value: unknown, field: string): string | undefined {
  return absent(value) ? undefined : requireAbsolutePath(value, field);
}

export function optionalInteger(value: unknown, field: string, range: IntegerRange): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !isInRange(value, range)) {
    throw new InvalidJobSpecError(`${field} must be a whole number from ${range.min} to ${range.max}`);
  }
  return value;
}

/** False when absent. */
export function optionalBoolean(value: unknown, field: string): boolean {
  if (absent(value)) return false;
  if (typeof value !== 'boolean') throw new InvalidJobSpecError(`${field} must be a boolean`);
  return value;
}

/** A list of tags, each held to TextRules.tag; empty when absent. */
export function optionalTagList(value: unknown, field: string): string[] {
  if (absent(value)) return [];
  if (!Array.isArray(value)) throw new InvalidJobSpecError(`${field} must be a list of tags`);
  if (value.length > MAX_TAGS) throw new InvalidJobSpecError(`${field} holds more than ${MAX_TAGS} tags`);
  return value.map((tag) => requireText(tag, `${field} entry`, TextRules.tag));
}

/**
 * Exact host names (limitHosts), not patterns: any text Ansible could name a host with, which
 * never reaches a pattern parser (the launcher compares names). Empty when absent; a present
 * list holds at least one name.
 */
export function optionalHostNameList(value: unknown, field: string): string[] {
  if (absent(value)) return [];
  if (!Array.isArray(value) || value.length === 0) throw new InvalidJobSpecError(`${field} must be a non-empty list of host names`);
  if (value.length > MAX_LIMIT_HOSTS) throw new InvalidJobSpecError(`${field} holds more than ${MAX_LIMIT_HOSTS} host names`);
  for (const name of value) {
    if (typeof name !== 'string' || name === '' || name.length > MAX_HOST_NAME_LENGTH || name.includes('\0')) {
      throw new InvalidJobSpecError(`${field} entries must be host names of 1 to ${MAX_HOST_NAME_LENGTH} characters without NUL`);
    }
  }
  return value as string[];
}

export function optionalModuleArgs(value: unknown, field: string): string | Record<string, unknown> | undefined {
  if (absent(value)) return undefined;
  if (!isModuleArgs(value)) {
    throw new InvalidJobSpecError(`${field} must be an object, or a string without NUL or Jinja markers ({{ {% {#})`);
  }
  return value;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (absent(value)) return undefined;
  if (!isPlainObject(value)) throw new InvalidJobSpecError(`${field} must be an object`);
  return value;
}
