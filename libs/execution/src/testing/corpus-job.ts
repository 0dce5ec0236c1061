import { JobSpec, JobStatus, TerminalJobStatus } from '@flansible/contracts';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ExecuteJobOptions } from '../job-executor';
import { LOCAL_INVENTORY } from './ansible-sandbox';
import { JobExecutorHarness, play } from './job-executor-harness';

/**
 * The differential suite's corpus (warm-runner.differential.integration-spec.ts): jobs that each
 * run once through every launch path under test, whose runs must come out equal after
 * normalisation (normalise-run.ts). Each job writes its own files into the sandbox of the side
 * that runs it, so two sides never share a file; within one side the jobs run in corpus order.
 */
export interface CorpusJob {
  /** Names the test, and the job's files in the sandbox. */
  name: string;
  /** What the job exercises. */
  covers: string;
  /** Writes what the job needs into the harness's sandbox and returns its spec. */
  prepare(h: JobExecutorHarness): Promise<JobSpec>;
  /** Executor options for the run (idle timeout, ...). */
  options?: Partial<ExecuteJobOptions>;
  /** The status the job ends with, on every path: proves the job does what `covers` says. */
  status: TerminalJobStatus;
  /** Texts the (raw) output must hold, on every path: the same proof. */
  outputHas?: string[];
  /** Texts the (raw) output must not hold. */
  outputLacks?: string[];
  /**
   * The job runs on several hosts at once (forks > 1): the order in which their results of one
   * task arrive is up to the operating system, so the comparison ignores it (normalise-run.ts's
   * anyHostOrder). Everything else is still compared.
   */
  anyHostOrder?: true;
  /** The playbook directory holds its own ansible.cfg: the warm runner hands such jobs to the cold path. */
  ownAnsibleCfg?: true;
  /** The run must last longer than this many seconds (a job that outlives a timer). */
  runsLongerThanSeconds?: number;
}

// What several corpus jobs share (corpus-adhoc.ts, corpus-playbooks.ts).

export const execFileAsync = promisify(execFile);

/** Writes an inventory into the sandbox's inventory root and returns its path. */
export async function writeInventory(h: JobExecutorHarness, name: string, text: string): Promise<string> {
  const path = join(h.sandbox().config.inventoryRoot, name);
  await writeFile(path, text);
  return path;
}

/** A directory inside the sandbox (outside every configured root) for files jobs create. */
export async function filesDir(h: JobExecutorHarness): Promise<string> {
  const dir = join(h.sandbox().root, 'files');
  await mkdir(dir, { recursive: true });
  return dir;
}

export const PYTHON = 'ansible_python_interpreter="{{ ansible_playbook_python }}"';

/** Three hosts, all this machine over the local connection. */
export const MULTI_INVENTORY = ['alpha', 'beta', 'gamma'].map((h) => `${h} ansible_connection=local ${PYTHON}\n`).join('');

/**
 * localhost, and a host over ssh where nothing listens: connection refused, at once. No ssh
 * master connection: the two sides run this job at once, and would share its control socket.
 */
export const UNREACHABLE_INVENTORY = `${LOCAL_INVENTORY}nowhere ansible_host=127.0.0.2 ansible_port=1 ansible_connection=ssh ansible_ssh_args="-o ControlMaster=no -o ConnectTimeout=5"\n`;

/** A playbook with something for every verbosity to say: a module run, a skip, a loop. */
export const VERBOSE_PLAYBOOK = play(
  'name: run a command\ncommand: echo verbose-marker',
  'name: skip one\ndebug: msg="never"\nwhen: false',
  'name: loop twice\ndebug: msg="item {{ item }}"\nloop: [one, two]',
);

/** What each verbosity adds to the output, and a line that shows it. */
export const VERBOSITY: Record<number, readonly [string, string]> = {
  1: ['the config file line, every result as JSON (delta, start, end)', 'No config file found'],
  2: ['the version header (paths of Ansible and its Python), task paths', 'task path: '],
  3: ['the inventory parsing, the connection, its commands, the remote and local temporary files', 'ESTABLISH LOCAL CONNECTION'],
  4: ['the callback plugins loaded (ours too), the playbook\'s options', 'Loading callback plugin flansible_events'],
};

export const verbose = (level: number): CorpusJob => ({
  name: `playbook-verbose-${level}`,
  covers: `verboseLevel ${level} (-${'v'.repeat(level)}): ${VERBOSITY[level][0]}`,
  prepare: async (h) => h.playbook(await h.sandbox().writePlaybook(`verbose-${level}.yml`, VERBOSE_PLAYBOOK), { verboseLevel: level }),
  status: JobStatus.Successful,
  outputHas: ['verbose-marker', VERBOSITY[level][1]],
});

/** Tasks untagged, tagged deploy, config and always. */
export const TAGGED_PLAYBOOK = play(
  'debug: msg="untagged-task"',
  'debug: msg="deploy-task"\ntags: [deploy]',
  'debug: msg="config-task"\ntags: [config]',
  'debug: msg="always-task"\ntags: [always]',
);
