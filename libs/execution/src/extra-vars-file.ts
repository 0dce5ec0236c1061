import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidJobSpecError } from './invocation';

/**
 * Characters PyYAML refuses raw (outside its printable set) or would fold as line breaks
 * inside a double-quoted scalar; written as \u escapes instead, which YAML decodes back.
 */
const YAML_UNSAFE_RAW = /[\u007f-\u009f\u2028\u2029\ufffe\uffff]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function yamlString(value: string): string {
  // JSON escapes are valid in YAML double-quoted scalars; lone surrogates have no escape PyYAML takes.
  return JSON.stringify(value.replace(LONE_SURROGATE, '\ufffd')).replace(
    YAML_UNSAFE_RAW,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function yamlNumber(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  const text = String(value);
  // YAML 1.1 (PyYAML) reads `1e+21` as a string: a float needs a dot.
  return /e/i.test(text) && !text.includes('.') ? text.replace(/e/i, '.0e') : text;
}

/**
 * Extra vars as YAML flow syntax (JSON with tags), every string tagged `!unsafe`: Ansible then
 * never templates them, so a value like `{{ lookup('pipe', 'id') }}` stays text instead of
 * running a command on the Flansible host itself. Numbers, booleans and null keep their types.
 */
export function serializeExtraVars(extraVars: Record<string, unknown>): string {
  const seen = new Set<unknown>();
  const write = (value: unknown): string => {
    if (value === null || value === undefined) return 'null';
    switch (typeof value) {
      case 'string':
        return `!unsafe ${yamlString(value)}`;
      case 'number':
        return yamlNumber(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'object': {
        if (seen.has(value)) throw new InvalidJobSpecError('extraVars must not be circular');
        seen.add(value);
        const text = Array.isArray(value)
          ? `[${value.map(write).join(', ')}]`
          : `{${Object.entries(value as Record<string, unknown>)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => `${yamlString(k)}: ${write(v)}`)
              .join(', ')}}`;
        seen.delete(value);
        return text;
      }
      default:
        throw new InvalidJobSpecError(`extraVars holds a value JSON cannot carry (${typeof value})`);
    }
  };
  if (typeof extraVars !== 'object' || extraVars === null || Array.isArray(extraVars)) {
    throw new InvalidJobSpecError('extraVars must be an object');
  }
  return `${write(extraVars)}\n`;
}

/** A private directory for one run's files; remove() deletes it whatever happened. */
export interface JobTempDir {
  path: string;
  remove(): Promise<void>;
}

/** mkdtemp under `<dataDir>/tmp`: mode 0700, so no other user of the machine can list or read it. */
export async function createJobTempDir(dataDir: string): Promise<JobTempDir> {
  const parent = join(dataDir, 'tmp');
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const path = await mkdtemp(join(parent, 'job-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Writes extra vars to `<dir>/extra-vars.yml` (mode 0600, created exclusively) and returns the
 * path for `--extra-vars=@<file>`: never on the command line, where `ps` shows it to everyone.
 */
export async function writeExtraVarsFile(dir: string, extraVars: Record<string, unknown>): Promise<string> {
  const file = join(dir, 'extra-vars.yml');
  await writeFile(file, serializeExtraVars(extraVars), { mode: 0o600, flag: 'wx' });
  return file;
}
