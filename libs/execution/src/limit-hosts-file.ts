import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a relaunch's host names to `<dir>/limit-hosts.json` (mode 0600, created exclusively) and
 * returns its path, for the launcher (LIMIT_HOSTS_ENV): JSON keeps every name exactly as it is,
 * whatever characters it holds, and a list of thousands of hosts fits no environment variable.
 */
export async function writeLimitHostsFile(dir: string, hosts: readonly string[]): Promise<string> {
  const file = join(dir, 'limit-hosts.json');
  await writeFile(file, JSON.stringify(hosts), { mode: 0o600, flag: 'wx' });
  return file;
}
