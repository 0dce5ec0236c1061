import { FlansibleConfig } from '@flansible/config';
import { CommandJobSpec, JobKind, JobOutcome, JobSpec, LaunchPath, PlaybookJobSpec } from '@flansible/contracts';
import { WorkspaceService } from '@flansible/workspace';
import { ExecuteJobOptions, JobExecutor } from '../job-executor';
import { Invocation } from '../invocation';
import { WarmAnsiblePool, WarmRunnerTiming } from '../warm-ansible-pool';
import { AnsibleSandbox, createAnsibleSandbox } from './ansible-sandbox';

/** A JobExecutor over `config` with its own warm runner, ready before it returns when config.warmRunner is on. */
export async function startJobExecutor(
  config: FlansibleConfig,
  timing?: Partial<WarmRunnerTiming>,
): Promise<{ executor: JobExecutor; pool: WarmAnsiblePool; stop(): Promise<void> }> {
  const pool = new WarmAnsiblePool(config, timing);
  pool.start();
  if (config.warmRunner && !(await pool.whenReady(60_000))) throw new Error('The warm runner was not ready within 60 s');
  return { executor: new JobExecutor(config, new WorkspaceService(config), pool), pool, stop: () => pool.stop() };
}

export interface JobExecutorHarnessOptions {
  /** Forks Ansible from the warm runner (the default, as in production) or starts it cold. */
  warmRunner?: boolean;
}

export interface Execution {
  outcome: JobOutcome;
  output: string;
  chunks: string[];
  spawned: Invocation[];
  /** How its Ansible started (onLaunched); null when nothing started. */
  launchPath: LaunchPath | null;
}

export interface JobExecutorHarness {
  /** The spec file's sandbox, there from its beforeAll on. */
  sandbox(): AnsibleSandbox;
  executor(): JobExecutor;
  /** Runs a job, collecting its output and every invocation it spawned. */
  execute(spec: JobSpec, options?: Partial<ExecuteJobOptions>): Promise<Execution>;
  /** An ad-hoc ping of localhost in the sandbox, with `overrides`. */
  command(overrides?: Partial<CommandJobSpec>): CommandJobSpec;
  /** A playbook job in the sandbox's playbook directory, with `overrides`. */
  playbook(playbookPath: string, overrides?: Partial<PlaybookJobSpec>): PlaybookJobSpec;
}

/** For the JobExecutor specs: a sandbox and an executor for the spec file (its beforeAll and afterAll). */
export function useJobExecutor(options: JobExecutorHarnessOptions = {}): JobExecutorHarness {
  let sandbox: AnsibleSandbox;
  let executor: JobExecutor;
  let stop: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    sandbox = await createAnsibleSandbox({ warmRunner: options.warmRunner ?? true });
    ({ executor, stop } = await startJobExecutor(sandbox.config));
  }, 90_000);
  afterAll(async () => {
    await stop();
    await sandbox.dispose();
  });

  return {
    sandbox: () => sandbox,
    executor: () => executor,
    async execute(spec, options = {}) {
      const chunks: string[] = [];
      const spawned: Invocation[] = [];
      let launchPath: LaunchPath | null = null;
      const outcome = await executor.execute(spec, {
        appendOutput: async (chunk) => void chunks.push(chunk),
        ...options,
        onSpawn: (pid, invocation) => {
          spawned.push(invocation);
          options.onSpawn?.(pid, invocation);
        },
        onLaunched: (path) => {
          launchPath = path;
          options.onLaunched?.(path);
        },
      });
      return { outcome, output: chunks.join(''), chunks, spawned, launchPath };
    },
    command: (overrides = {}) => ({
      kind: JobKind.Command,
      inventoryPath: sandbox.inventoryPath,
      hostPattern: 'localhost',
      module: 'ping',
      ...overrides,
    }),
    playbook: (playbookPath, overrides = {}) => ({
      kind: JobKind.Playbook,
      inventoryPath: sandbox.inventoryPath,
      playbookDir: sandbox.playbookDir,
      playbookPath,
      ...overrides,
    }),
  };
}

/** A play on all hosts, without fact gathering, running `tasks` (one YAML task each). */
export const play = (...tasks: string[]): string =>
  `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.map((t) => `    - ${t.replace(/\n/g, '\n      ')}\n`).join('')}`;
