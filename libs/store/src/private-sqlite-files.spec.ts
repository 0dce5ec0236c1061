import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteJobStore, SQLITE_FILE_NAME } from './create-job-store';
import { JobStore } from './job-store';
import { newJob } from './testing/job-fixtures';

const modeOf = (path: string) => (statSync(path).mode & 0o7777).toString(8);

/** The modes of the data directory and of every database file, by name ('.' is the directory). */
function modes(dataDir: string): Record<string, string> {
  const file = join(dataDir, SQLITE_FILE_NAME);
  return { '.': modeOf(dataDir), db: modeOf(file), wal: modeOf(`${file}-wal`), shm: modeOf(`${file}-shm`) };
}

describe('SQLite store file modes', () => {
  let root: string;
  let store: JobStore | undefined;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'flansible-modes-'));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await store?.close();
    store = undefined;
    jest.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  /** Opens the store the way the service does and writes a job, so the WAL and SHM files exist. */
  async function openAndWrite(dataDir: string): Promise<void> {
    store = createSqliteJobStore(dataDir);
    await store.migrate();
    await store.createJob(newJob());
  }

  it('creates the data directory 0700 and the database with its WAL and SHM files 0600', async () => {
    const dataDir = join(root, 'data');
    await openAndWrite(dataDir);
    expect(modes(dataDir)).toEqual({ '.': '700', db: '600', wal: '600', shm: '600' });
    expect(warn).not.toHaveBeenCalled();
  });

  it('narrows a database an earlier version left world-readable, one line per path', async () => {
    // What the previous code left: data/ 0755, the database and the WAL and SHM of a run that is
    // still open (or crashed) 0644.
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const file = join(dataDir, SQLITE_FILE_NAME);
    const earlier = new Database(file);
    try {
      earlier.pragma('journal_mode = WAL');
      earlier.exec('CREATE TABLE earlier (id INTEGER)');
      for (const path of [file, `${file}-wal`, `${file}-shm`]) chmodSync(path, 0o644);
      expect(modes(dataDir)).toEqual({ '.': '755', db: '644', wal: '644', shm: '644' });

      await openAndWrite(dataDir);
    } finally {
      earlier.close();
    }
    expect(modes(dataDir)).toEqual({ '.': '700', db: '600', wal: '600', shm: '600' });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      `Narrowed ${dataDir} from mode 0755 to 0700: it holds job output, for this service's user only`,
      `Narrowed ${file} from mode 0644 to 0600: it holds job output, for this service's user only`,
      `Narrowed ${file}-wal from mode 0644 to 0600: it holds job output, for this service's user only`,
      `Narrowed ${file}-shm from mode 0644 to 0600: it holds job output, for this service's user only`,
    ]);
  });

  it('leaves a shared sticky directory such as /tmp as it is, with the database files still 0600', async () => {
    const dataDir = join(root, 'shared');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o1777);
    await openAndWrite(dataDir);
    expect(modes(dataDir)).toEqual({ '.': '1777', db: '600', wal: '600', shm: '600' });
    expect(warn.mock.calls).toEqual([[expect.stringMatching(/ is a shared directory \(mode 1777\): left as it is; /)]]);
  });
});
