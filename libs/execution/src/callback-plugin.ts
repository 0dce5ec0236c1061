import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The callback plugin shipped in this repository (libs/execution/ansible/callback_plugins). */
export const EVENTS_CALLBACK_NAME = 'flansible_events';

/** The file descriptor of the child on which the plugin writes its JSON lines (stdin, stdout, stderr, then this). */
export const EVENTS_FD = 3;

const PLUGIN_FILE = `${EVENTS_CALLBACK_NAME}.py`;
const FROM_PACKAGE_ROOT = join('libs', 'execution', 'ansible', 'callback_plugins');

/**
 * The directory holding flansible_events.py, or null when none is found. `nest build` compiles
 * TypeScript into dist/ but copies no .py file, so the built app finds it from the package root
 * (the nearest directory above with a package.json: the repository, or /app in the image). A copy
 * beside the compiled library (dist/libs/execution/ansible, should assets ever be copied) is
 * tried first.
 */
export function findCallbackPluginDir(startDir: string = __dirname): string | null {
  const candidates = [join(startDir, '..', 'ansible', 'callback_plugins')];
  for (let dir = startDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      candidates.push(join(dir, FROM_PACKAGE_ROOT));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return candidates.find((dir) => existsSync(join(dir, PLUGIN_FILE))) ?? null;
}
