import { FlansibleConfig } from './flansible-config';
import { ConfigError, loadConfig } from './load-config';

/** Boot helper: a bad value stops the process with one line naming the key. */
export function loadConfigOrExit(): FlansibleConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`flansible: invalid configuration: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}
