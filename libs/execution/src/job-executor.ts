import { Injectable, Logger } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { JobKind, JobOutcome, JobSpec, JobStatus, LaunchPath, NewJobEvent, optionalBoolean, optionalHostNameList } from '@flansible/contracts';
import { PathNotFoundError, PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findAnsibleLauncher, GUARD_ENV, GUARD_REPORT_ENV, guardSettings, throughLauncher } from './ansible-launcher';
import { findCallbackPluginDir } from './callback-plugin';
import { ansibleLocalTempDir, buildChildEnv } from './child-env';
import { confineJobPaths, PathConfinementError } from './confine-job-paths';
import { createJobTempDir, JobTempDir, writeExtraVarsFile } from './extra-vars-file';
import { writeLimitHostsFile } from './limit-hosts-file';
import {
  buildCommandInvocation,
  buildGitInvocations,
  buildPlaybookGitPullInvocation,
  buildPlaybookInvocation,
  InvalidJobSpecError,
  Invocation,
  InvocationFiles,
  jobTimeoutSeconds,
} from './invocation';
import { EventBatcher, EventBatcherOptions } from './event-batcher';
import { JobEventLineReader } from './job-event-parser';
import { OutputBatcher, OutputBatcherOptions } from './output-batcher';
import { ProcessResult, runProcess } from './process-runner';
import { WarmAnsiblePool } from './warm-ansible-pool';

/**
 * The reason to pass to AbortController.abort() to stop a running job: its outcome is recorded
 * as given (e.g. canceled by a user, or error when the runner shuts down).
 */
export class JobInterruption {
  constructor(
    readonly status: typeof JobStatus.Canceled | typeof JobStatus.Error,
    readonly reason: string,
  ) {}
}

export interface ExecuteJobOptions {
  /** Stores one batch of output; called one batch at a time, in order. */
  appendOutput: (chunk: string) => Promise<void>;
  /**
   * Stores one batch of structured events (from the callback plugin); called one batch at a
   * time, in order. Without it, the plugin records nothing.
   */
  appendEvents?: (events: NewJobEvent[]) => Promise<void>;
  /** Aborting stops the process tree; pass a JobInterruption as the abort reason. */
  signal?: AbortSignal;
  /**
   * Overrides config.taskTimeoutSeconds, the most any job may run (every step included); a job's
   * own spec.timeoutSeconds applies when smaller.
   */
  timeoutSeconds?: number;
  /** Overrides config.idleTimeoutSeconds: seconds without output before the job is stopped (0: never). */
  idleTimeoutSeconds?: number;
  /** Time between SIGTERM and SIGKILL when stopping a process group (default: config.killGraceSeconds). */
  killGraceMs?: number;
  /** Output batching (defaults: 25 ms, 64 KiB, at most config.maxOutputBytes stored). */
  batching?: OutputBatcherOptions;
  /** Event batching (defaults: 25 ms, 500 events). */
  eventBatching?: EventBatcherOptions;
  /** Called with each child's pid (= its process group id) once started. */
  onSpawn?: (pid: number, invocation: Invocation) => void;
  /** Hears how the job's Ansible started (warm or cold; a git job's steps: cold). */
  onLaunched?: (path: LaunchPath) => void;
}

/** One step of a job: the process to run and how its failure reads in the job's reason. */
interface Step {
  invocation: Invocation;
  failurePrefix: string;
  /** An ansible or ansible-playbook step, whose callback plugin writes events. */
  ansible: boolean;
}

/** The limits one run is held to. */
interface RunLimits {
  timeoutSeconds: number;
  idleTimeoutSeconds: number;
}

const successful = (returnCode: number | null): JobOutcome => ({ status: JobStatus.Successful, reason: null, returnCode });
const errorOutcome = (reason: string): JobOutcome => ({ status: JobStatus.Error, reason, returnCode: null });

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * Turns a job spec into child processes and their outcome: checks the paths, prepares the extra
 * vars file, runs each step (a playbook's git pull, then ansible-playbook; a git job's fetch,
 * reset and pull) with the output streamed to the store in batches, and always cleans up.
 * Never throws: a job that cannot run ends as error with a reason.
 */
@Injectable()
export class JobExecutor {
  private readonly logger = new Logger(JobExecutor.name);
  /** Where flansible_events.py is; null when it cannot be found (jobs then run without events). */
  readonly callbackPluginDir: string | null = findCallbackPluginDir();

  constructor(
    private readonly config: FlansibleConfig,
    private readonly workspace: WorkspaceService,
    private readonly warmPool: WarmAnsiblePool,
  ) {}

  /** Logs an error when the callback plugin is missing; false then. Called at runner start. */
  checkCallbackPlugin(): boolean {
    if (this.callbackPluginDir) return true;
    this.logger.error(
      'The flansible_events callback plugin was not found (libs/execution/ansible/callback_plugins under the ' +
        'package root): jobs run, but record no structured events',
    );
    return false;
  }

  /**
   * Logs, once at runner start, when a job's processes would outlive this runner: the launcher's
   * supervisor needs Linux's parent-death signal and Ansible's Python. False then.
   */
  checkSupervision(): boolean {
    const launcher = findAnsibleLauncher(buildChildEnv(process.env, this.config.dataDir).PATH);
    const missing = process.platform !== 'linux' ? `${process.platform} has no parent-death signal` : typeof launcher === 'string' ? launcher : null;
    if (missing === null) return true;
    this.logger.warn(`Jobs are not supervised (${missing}): if this runner dies, the processes of its running jobs go on until they end`);
    return false;
  }

  async execute(spec: JobSpec, options: ExecuteJobOptions): Promise<JobOutcome> {
    const started = Date.now();
    const batcher = new OutputBatcher(options.appendOutput, { maxStoredBytes: this.config.maxOutputBytes, ...options.batching });
    const events =
      options.appendEvents && this.callbackPluginDir ? new EventBatcher(options.appendEvents, options.eventBatching) : null;
    let tempDir: JobTempDir | null = null;
    try {
      const limits: RunLimits = {
        timeoutSeconds: Math.min(
          jobTimeoutSeconds(spec ?? {}) ?? Infinity,
          options.timeoutSeconds ?? this.config.taskTimeoutSeconds,
        ),
        idleTimeoutSeconds: options.idleTimeoutSeconds ?? this.config.idleTimeoutSeconds ?? 0,
      };
      const deadline = started + limits.timeoutSeconds * 1000;
      const confined = await confineJobPaths(spec, this.config);
      this.checkGitCheckout(confined);
      const files: InvocationFiles = {};
      const guarded = confined.kind !== JobKind.Git && confined.unrestricted !== true;
      if (confined.kind !== JobKind.Git && confined.extraVars !== undefined && confined.extraVars !== null) {
        tempDir = await createJobTempDir(this.config.dataDir);
        files.extraVarsFile = await writeExtraVarsFile(tempDir.path, confined.extraVars);
      }
      const limitHosts = confined.kind === JobKind.Git ? [] : optionalHostNameList(confined.limitHosts, 'limitHosts');
      if (limitHosts.length) {
        tempDir ??= await createJobTempDir(this.config.dataDir);
        files.limitHostsFile = await writeLimitHostsFile(tempDir.path, limitHosts);
      }
      // Every step is built (and so validated) before the first one runs.
      const steps = await this.stepsOf(confined, files);
      await mkdir(ansibleLocalTempDir(this.config.dataDir), { recursive: true, mode: 0o700 });
      // The same environment with or without events (the plugin then finds no descriptor and stays
      // off): one environment for every job, the one the warm runner imported Ansible with.
      const env = buildChildEnv(process.env, this.config.dataDir, { callbackPluginDir: this.callbackPluginDir, recordEvents: events !== null });
      // Ansible always starts through flansible_launch.py (its own Python), which installs the
      // guard for everyone but admins and narrows a relaunch to its hosts: neither a guarded job
      // nor a relaunch ever runs without it.
      const launcher = findAnsibleLauncher(env.PATH);
      if ((guarded || limitHosts.length) && typeof launcher === 'string') {
        return errorOutcome(`Could not start ${steps[steps.length - 1].invocation.label}: ${launcher}`);
      }
      let guardReport: string | null = null;
      if (guarded) {
        tempDir ??= await createJobTempDir(this.config.dataDir);
        guardReport = join(tempDir.path, 'guard-report');
        Object.assign(env, { [GUARD_ENV]: guardSettings(confined.kind === JobKind.Command), [GUARD_REPORT_ENV]: guardReport });
      }
      const killGraceMs = options.killGraceMs ?? (this.config.killGraceSeconds ?? 5) * 1000;

      let returnCode: number | null = null;
      for (const step of steps) {
        const remainingMs = deadline - Date.now();
        if (remainingMs <= 0) return this.timedOut(limits.timeoutSeconds);
        const eventLines = events && step.ansible ? new JobEventLineReader((event) => events.add(event)) : null;
        // Git too runs supervised when the launcher is at hand; without Ansible it runs as it is.
        const invocation = typeof launcher !== 'string' ? throughLauncher(step.invocation, launcher) : step.invocation;
        // Ansible steps fork from the warm runner where it can (the pool decides); else as above.
        const warmEnv = { ...env, ...step.invocation.env };
        const startWarm = step.ansible && typeof launcher !== 'string' ? () => this.warmPool.fork(step.invocation, warmEnv, eventLines !== null) : undefined;
        const result = await runProcess(invocation, {
          env: invocation.env ? { ...env, ...invocation.env } : env,
          startWarm,
          onOutput: (text) => batcher.write(text),
          onEventData: eventLines ? (text) => eventLines.write(text) : undefined,
          timeoutMs: remainingMs,
          idleTimeoutMs: limits.idleTimeoutSeconds * 1000,
          killGraceMs,
          signal: options.signal,
          onSpawn: (pid) => options.onSpawn?.(pid, step.invocation),
        });
        await eventLines?.end();
        if (result.launchPath && (step.ansible || !steps.some((s) => s.ansible))) options.onLaunched?.(result.launchPath);
        // The guard stopped the job before anything ran on a host it may not reach.
        const refusal = guardReport && step.ansible ? await readFile(guardReport, 'utf8').catch(() => '') : '';
        if (refusal) return errorOutcome(firstLine(refusal));
        const outcome = this.outcomeOf(step, result, limits, options.signal);
        if (outcome.status !== JobStatus.Successful) return outcome;
        returnCode = outcome.returnCode;
      }
      return successful(returnCode);
    } catch (err) {
      if (
        err instanceof InvalidJobSpecError ||
        err instanceof PathConfinementError ||
        err instanceof PathNotFoundError ||
        err instanceof PathOutsideRootError
      ) {
        return errorOutcome(err.message);
      }
      this.logger.error(`Could not run a ${spec?.kind} job: ${(err as Error).stack ?? err}`);
      return errorOutcome(`Could not run the job: ${firstLine((err as Error).message ?? String(err))}`);
    } finally {
      // The final flushes (and the output limit's notice) complete before the caller records the outcome.
      await Promise.all([batcher.finish(), events?.flush()]);
      await tempDir?.remove().catch((err: Error) => this.logger.error(`Could not remove ${tempDir?.path}: ${err.message}`));
    }
  }

  /**
   * The directory git will act on must still be the top of its own checkout (the gateway checked
   * at submission; a message could come from anywhere, and the directory can change since).
   */
  private checkGitCheckout(spec: JobSpec): void {
    if (spec.kind === JobKind.Git) this.workspace.resolveRepoDir(spec.repoDir);
    if (spec.kind === JobKind.Playbook && spec.updateGitRepo === true) this.workspace.resolveRepoDir(spec.playbookDir);
  }

  private async stepsOf(spec: JobSpec, files: InvocationFiles): Promise<Step[]> {
    switch (spec.kind) {
      case JobKind.Command:
        return [{ invocation: buildCommandInvocation(spec, files, await this.commandWorkingDir()), failurePrefix: '', ansible: true }];
      case JobKind.Playbook: {
        const playbook = { invocation: buildPlaybookInvocation(spec, files), failurePrefix: '', ansible: true };
        if (!optionalBoolean(spec.updateGitRepo, 'updateGitRepo')) return [playbook];
        return [
          {
            invocation: buildPlaybookGitPullInvocation(spec.playbookDir),
            failurePrefix: 'Updating the playbook repository failed, the playbook did not run: ',
            ansible: false,
          },
          playbook,
        ];
      }
      case JobKind.Git:
        return buildGitInvocations(spec).map((invocation) => ({ invocation, failurePrefix: '', ansible: false }));
      default:
        throw new InvalidJobSpecError(`Unknown job kind: ${String((spec as { kind: unknown }).kind)}`);
    }
  }

  /** Ad-hoc commands run in the playbook root, where an operator's ansible.cfg would sit. */
  private async commandWorkingDir(): Promise<string> {
    const isDir = await stat(this.config.playbookRoot).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) return this.config.playbookRoot;
    await mkdir(this.config.dataDir, { recursive: true });
    return this.config.dataDir;
  }

  private timedOut(timeoutSeconds: number): JobOutcome {
    return { status: JobStatus.TimedOut, reason: `Task timed out after ${timeoutSeconds} s`, returnCode: null };
  }

  private outcomeOf(step: Step, result: ProcessResult, limits: RunLimits, signal?: AbortSignal): JobOutcome {
    const { label, command } = step.invocation;
    if (result.spawnError) {
      const code = (result.spawnError as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `${command} was not found on PATH` : firstLine(result.spawnError.message);
      return errorOutcome(`${step.failurePrefix}Could not start ${label}: ${why}`);
    }
    if (result.timedOut) return this.timedOut(limits.timeoutSeconds);
    if (result.idleTimedOut) {
      return { status: JobStatus.TimedOut, reason: `No output for ${limits.idleTimeoutSeconds} s`, returnCode: null };
    }
    if (result.aborted) {
      const interruption = signal?.reason;
      return interruption instanceof JobInterruption
        ? { status: interruption.status, reason: interruption.reason, returnCode: null }
        : { status: JobStatus.Canceled, reason: 'Job canceled', returnCode: null };
    }
    if (result.exitCode === 0) return successful(0);
    if (result.exitCode !== null) {
      return {
        status: JobStatus.Failed,
        reason: `${step.failurePrefix}${label} exited with code ${result.exitCode}`,
        returnCode: result.exitCode,
      };
    }
    return {
      status: JobStatus.Failed,
      reason: `${step.failurePrefix}${label} was killed by signal ${result.signal ?? 'unknown'}`,
      returnCode: null,
    };
  }
}
