import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { MODULE_ARGUMENT_RULES } from '@flansible/contracts';
import { Invocation } from './invocation';

/** Shipped beside the callback plugins: libs/execution/ansible/flansible_launch.py. */
const LAUNCHER_FILE = 'flansible_launch.py';
const FROM_PACKAGE_ROOT = join('libs', 'execution', 'ansible');

/** Environment the launcher reads (and removes before Ansible starts). */
export const GUARD_ENV = 'FLANSIBLE_GUARD';
export const GUARD_REPORT_ENV = 'FLANSIBLE_GUARD_REPORT';

/** How ansible and ansible-playbook are started: their own Python, with the launcher script. */
export interface AnsibleLauncher {
  /** The interpreter (and its flags) from the shebang of `ansible` on PATH. */
  python: string[];
  script: string;
}

/**
 * The directory of libs/execution/ansible that holds `file` (relative to it), or null. `nest
 * build` compiles TypeScript into dist/ but copies no .py file, so the built app finds it from the
 * package root (the nearest directory above with a package.json: the repository, or /app in the
 * image). A copy beside the compiled library (should assets ever be copied) is tried first.
 */
export function findShippedAnsibleDir(file: string, startDir: string = __dirname): string | null {
  const candidates = [join(startDir, '..', 'ansible')];
  for (let dir = startDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      candidates.push(join(dir, FROM_PACKAGE_ROOT));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return candidates.find((dir) => existsSync(join(dir, file))) ?? null;
}

function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The interpreter that `ansible` on PATH runs with, read from its shebang (`#!/usr/bin/python3`,
 * `#!/usr/bin/env python3`, flags kept): the one Python that can import this Ansible.
 */
export function ansiblePython(path: string): string[] | null {
  const ansible = onPath('ansible', path);
  if (!ansible) return null;
  let firstLine: string;
  try {
    firstLine = readFileSync(ansible, 'utf8').slice(0, 512).split('\n')[0];
  } catch {
    return null;
  }
  if (!firstLine.startsWith('#!')) return null;
  const [interpreter, ...rest] = firstLine.slice(2).trim().split(/\s+/);
  if (!interpreter || !isAbsolute(interpreter)) return null;
  if (interpreter.endsWith('/env')) {
    const [name, ...flags] = rest.filter((arg) => arg !== '-S');
    const resolved = name ? onPath(name, path) : null;
    return resolved ? [resolved, ...flags] : null;
  }
  return [interpreter, ...rest];
}

/**
 * A script of libs/execution/ansible with the interpreter of `ansible` on `path`, or why there is
 * none (a sentence's end): the launcher, the fork server, the inventory lister.
 */
export function findAnsibleScript(file: string, path: string, startDir?: string): AnsibleLauncher | string {
  if (!onPath('ansible', path)) return 'ansible was not found on PATH';
  const python = ansiblePython(path);
  if (!python) return 'the Python interpreter of ansible could not be read from its first line';
  const assets = findShippedAnsibleDir(file, startDir);
  if (!assets) return `${file} was not found (libs/execution/ansible under the package root)`;
  return { python, script: join(assets, file) };
}

/** The launcher for `ansible` on `path`, or why there is none (a sentence's end). */
export function findAnsibleLauncher(path: string, startDir?: string): AnsibleLauncher | string {
  return findAnsibleScript(LAUNCHER_FILE, path, startDir);
}

/** The command and arguments that run `script` with ansible's interpreter (its flags kept), then `args`. */
export function scriptCommand(script: AnsibleLauncher, args: readonly string[]): [string, string[]] {
  const [python, ...flags] = script.python;
  return [python, [...flags, script.script, ...args]];
}

/** Names the runner to the launcher's supervisor, which kills the job's group when this process dies. */
export const SUPERVISOR_ENV = 'FLANSIBLE_SUPERVISOR_PARENT';

/**
 * `ansible …` / `ansible-playbook …` as `<python> flansible_launch.py ansible …`, any other program
 * (git) as `<python> flansible_launch.py --exec git …`: same argv, same behaviour, supervised.
 */
export function throughLauncher(invocation: Invocation, launcher: AnsibleLauncher): Invocation {
  const ansible = invocation.command === 'ansible' || invocation.command === 'ansible-playbook';
  const [command, args] = scriptCommand(launcher, [...(ansible ? [] : ['--exec']), invocation.command, ...invocation.args]);
  return {
    ...invocation,
    command,
    args,
    env: { ...invocation.env, [SUPERVISOR_ENV]: String(process.pid) },
  };
}

/** The guard's settings for one job: hosts always; the module-argument rules for ad-hoc commands. */
export function guardSettings(adhoc: boolean): string {
  return JSON.stringify(adhoc ? { adhoc: true, moduleArgumentRules: MODULE_ARGUMENT_RULES } : { adhoc: false });
}
