import { CommandJobSpec, JobKind, JobOutcome, JobSpec, PlaybookJobSpec } from '@flansible/contracts';
import { WorkspaceService } from '@flansible/workspace';
import { ExecuteJobOptions, JobExecutor } from '../job-executor';
import { Invocation } from '../invocation';
import { AnsibleSandbox, createAnsibleSandbox } from './ansible-sandbox';

export interface Execution {
  outcome: JobOutcome;
  output: string;
  chunks: string[];
  spawned: Invocation[];
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
export function useJobExecutor(): JobExecutorHarness {
  let sandbox: AnsibleSandbox;
  let executor: JobExecutor;
  beforeAll(async () => {
    sandbox = await createAnsibleSandbox();
    executor = new JobExecutor(sandbox.config, new WorkspaceService(sandbox.config));
  });
  afterAll(() => sandbox.dispose());

  return {
    sandbox: () => sandbox,
    executor: () => executor,
    async execute(spec, options = {}) {
      const chunks: string[] = [];
      const spawned: Invocation[] = [];
      const outcome = await executor.execute(spec, {
        appendOutput: async (chunk) => void chunks.push(chunk),
        ...options,
        onSpawn: (pid, invocation) => {
          spawned.push(invocation);
          options.onSpawn?.(pid, invocation);
        },
      });
      return { outcome, output: chunks.join(''), chunks, spawned };
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
