import { JobStatus } from '@flansible/contracts';
import { join } from 'node:path';
import { CorpusJob, filesDir, UNREACHABLE_INVENTORY, verbose, writeInventory } from './corpus-job';

/** The differential corpus's ad-hoc commands (differential-corpus.ts). */
export const ADHOC_CORPUS: CorpusJob[] = [
  {
    name: 'adhoc-ping',
    covers: 'the ping module, the simplest ad-hoc job',
    prepare: async (h) => h.command(),
    status: JobStatus.Successful,
    outputHas: ['localhost | SUCCESS', '"ping": "pong"'],
  },
  {
    name: 'adhoc-command',
    covers: 'the command module: CHANGED, its rc and stdout in the one-line ad-hoc form',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: 'echo hello-from-command' }),
    status: JobStatus.Successful,
    outputHas: ['localhost | CHANGED | rc=0 >>', 'hello-from-command'],
  },
  {
    name: 'adhoc-command-verbose',
    covers: 'an ad-hoc command at -vvv: the connection, its commands and the remote and local temporary files',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: 'printf "a\\nb\\n"', verboseLevel: 3 }),
    status: JobStatus.Successful,
    outputHas: ['ESTABLISH LOCAL CONNECTION', 'AnsiballZ_command.py'],
  },
  {
    name: 'adhoc-shell',
    covers: 'the shell module as an admin (unrestricted): stdout and stderr, pipes, arithmetic',
    prepare: async (h) =>
      h.command({ module: 'shell', moduleArgs: 'echo out-line; echo err-line >&2; echo $((6 * 7)) | tr 4 X', unrestricted: true }),
    status: JobStatus.Successful,
    outputHas: ['out-line', 'err-line', 'X2'],
  },
  {
    name: 'adhoc-setup-minimal',
    covers: 'the setup module, gather_subset minimal: date_time, env and other facts that change between runs',
    prepare: async (h) => h.command({ module: 'setup', moduleArgs: 'gather_subset=min' }),
    status: JobStatus.Successful,
    outputHas: ['"ansible_date_time"', '"ansible_env"'],
  },
  {
    name: 'adhoc-copy',
    covers: 'the copy module with content: checksum, owner, mode, and the uploaded temporary source',
    prepare: async (h) =>
      h.command({ module: 'copy', moduleArgs: { content: 'copied content\n', dest: join(await filesDir(h), 'copy-target.txt'), mode: '0640' } }),
    status: JobStatus.Successful,
    outputHas: ['localhost | CHANGED', '"checksum"'],
  },
  {
    name: 'adhoc-copy-again',
    covers: 'the copy module on a file already up to date: ok, not changed',
    prepare: async (h) =>
      h.command({ module: 'copy', moduleArgs: { content: 'copied content\n', dest: join(await filesDir(h), 'copy-target.txt'), mode: '0640' } }),
    status: JobStatus.Successful,
    outputHas: ['localhost | SUCCESS'],
  },
  {
    name: 'adhoc-file',
    covers: 'the file module: a directory with a mode',
    prepare: async (h) => h.command({ module: 'file', moduleArgs: `path=${join(await filesDir(h), 'made-dir')} state=directory mode=0750` }),
    status: JobStatus.Successful,
    outputHas: ['"state": "directory"', '"mode": "0750"'],
  },
  {
    name: 'adhoc-command-fails',
    covers: 'a failing command (/bin/false): FAILED, rc 1, the job failed with return code 2',
    prepare: async (h) => h.command({ module: 'command', moduleArgs: '/bin/false' }),
    status: JobStatus.Failed,
    outputHas: ['localhost | FAILED | rc=1 >>'],
  },
  {
    name: 'adhoc-missing-file',
    covers: 'a module failure without a return code: the file module on a missing file',
    prepare: async (h) => h.command({ module: 'file', moduleArgs: `path=${join(await filesDir(h), 'no-such-file')} state=file` }),
    status: JobStatus.Failed,
    outputHas: ['localhost | FAILED! =>', 'is absent, cannot continue'],
  },
  {
    name: 'adhoc-unreachable',
    covers: 'an unreachable host (ssh to 127.0.0.2:1, connection refused) beside a reachable one',
    prepare: async (h) =>
      h.command({ inventoryPath: await writeInventory(h, 'unreachable', UNREACHABLE_INVENTORY), hostPattern: 'all', forks: 1 }),
    status: JobStatus.Failed,
    outputHas: ['nowhere | UNREACHABLE!', 'Connection refused', 'localhost | SUCCESS'],
  },
];
