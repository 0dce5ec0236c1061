import { join } from 'node:path';
import { findShippedAnsibleDir } from './ansible-launcher';

/** The callback plugin shipped in this repository (libs/execution/ansible/callback_plugins). */
export const EVENTS_CALLBACK_NAME = 'flansible_events';

/** The file descriptor of the child on which the plugin writes its JSON lines (stdin, stdout, stderr, then this). */
export const EVENTS_FD = 3;

const PLUGIN_FILE = join('callback_plugins', `${EVENTS_CALLBACK_NAME}.py`);

/** The directory holding flansible_events.py, or null when none is found. */
export function findCallbackPluginDir(startDir: string = __dirname): string | null {
  const assets = findShippedAnsibleDir(PLUGIN_FILE, startDir);
  return assets === null ? null : join(assets, 'callback_plugins');
}
