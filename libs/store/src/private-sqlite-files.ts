import { Logger } from '@nestjs/common';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Permission bits for the group and for others: none on the data directory or the database. */
const SHARED_BITS = 0o077;
const STICKY_BIT = 0o1000;

/** The files SQLite keeps beside the database in WAL mode (and the rollback journal). */
const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'];

const logger = new Logger('JobStore');

/**
 * Makes the data directory 0700 and the SQLite database `file` in it 0600 before SQLite opens it:
 * the database holds every job's output, which can hold whatever a playbook prints. A directory or
 * file left wider by an earlier version is narrowed, with one warning per path.
 *
 * The database file is created here with its mode instead of under a tightened umask: the umask is
 * process-wide, so it would also apply to whatever else the process creates meanwhile. SQLite gives
 * the -wal, -shm and -journal files it creates later the mode of the database file (os_unix.c,
 * findCreateFileMode), so they are 0600 too; leftovers from a run that did not close them (a crash)
 * are narrowed here.
 */
export function preparePrivateSqliteFile(dataDir: string, file: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  narrowDataDir(dataDir);
  try {
    closeSync(openSync(file, 'wx', 0o600));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const path of [file, ...SIDE_FILE_SUFFIXES.map((suffix) => file + suffix)]) narrow(path);
}

function narrowDataDir(dataDir: string): void {
  const mode = statSync(dataDir).mode & 0o7777;
  // A shared directory such as /tmp (sticky, open to all) is not ours to close: the files stay 0600.
  if (mode & STICKY_BIT) {
    if (mode & SHARED_BITS) {
      logger.warn(`${dataDir} is a shared directory (mode ${octal(mode)}): left as it is; the database files in it are 0600`);
    }
    return;
  }
  narrow(dataDir);
}

/** Removes group and other access from `path` if it has any, saying so; a missing path is fine. */
function narrow(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & SHARED_BITS) === 0) return;
  const narrowed = mode & ~SHARED_BITS;
  chmodSync(path, narrowed);
  logger.warn(`Narrowed ${path} from mode ${octal(mode)} to ${octal(narrowed)}: it holds job output, for this service's user only`);
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
