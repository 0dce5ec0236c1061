import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { backoffDelay } from '@flansible/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnsibleLauncher, findAnsibleLauncher, findAnsibleScript, scriptCommand } from './ansible-launcher';
import { findCallbackPluginDir } from './callback-plugin';
import { buildChildEnv } from './child-env';
import { forkWarm, WarmStartRefused } from './fork-server-client';
import { Invocation } from './invocation';
import { StartedProcess } from './process-runner';
import { configFingerprint, whyCold } from './warm-start-rules';

const FORK_SERVER_FILE = 'flansible_forkserver.py';

/** How long the pool waits for its fork server; specs shorten them. */
export interface WarmRunnerTiming {
  /** A job's fork must be answered within this long, else the server is replaced and the job runs cold. */
  answerWithinMs: number;
  /** A new server must be ready within this long, else it is replaced. */
  readyWithinMs: number;
  /** Waits before the n-th restart in a row (the last repeating). */
  restartDelaysMs: readonly number[];
}

export const WARM_RUNNER_TIMING = Symbol('WARM_RUNNER_TIMING');

const DEFAULT_TIMING: WarmRunnerTiming = { answerWithinMs: 5_000, readyWithinMs: 60_000, restartDelaysMs: [500, 2_000, 10_000, 30_000] };

/** One running fork server and what it imported. */
interface ForkServer {
  process: ChildProcess;
  socketDir: string;
  socketPath: string;
  /** The environment it was started with: a job's must be the same (but for the launcher's own). */
  env: Record<string, string>;
  /** The global Ansible configuration files as they were when it started (configFingerprint). */
  fingerprint: string;
  ready: boolean;
}

/**
 * The warm runner: keeps a fork server (libs/execution/ansible/flansible_forkserver.py, run with
 * the Python of `ansible` on PATH) that has imported Ansible once, and forks each job from it when
 * the job would see the configuration it imported (warm-start-rules.ts); any other job, and any
 * job the server fails to start, runs cold. A server that dies or stops answering is replaced.
 * Jobs it started do not depend on it: each is supervised by its own forked process, which ends
 * the job when this runner dies.
 */
@Injectable()
export class WarmAnsiblePool implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WarmAnsiblePool.name);
  private readonly timing: WarmRunnerTiming;
  private server: ForkServer | null = null;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly config: FlansibleConfig,
    @Optional() @Inject(WARM_RUNNER_TIMING) timing?: Partial<WarmRunnerTiming>,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /** The runner starts the pool and goes on: jobs run cold until the server is ready. */
  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** The pids of the running fork servers (the bench reads their memory). */
  get serverPids(): number[] {
    return this.server?.ready && this.server.process.pid ? [this.server.process.pid] : [];
  }

  /** Starts the fork server in the background, when warm starts are on and possible. */
  start(): void {
    if (!this.config.warmRunner || this.stopped || this.server || this.restartTimer) return;
    const launcher = this.launcher();
    if (typeof launcher === 'string') {
      this.logger.warn(`Ansible jobs start cold: ${launcher}`);
      return;
    }
    void this.spawnServer(launcher).catch((err: Error) => {
      this.logger.error(`Could not start the warm runner's fork server: ${err.message}`);
      this.scheduleRestart();
    });
  }

  /** Resolves true once a fork server is ready, false when none is by `withinMs` (for specs and the bench). */
  whenReady(withinMs: number): Promise<boolean> {
    if (this.server?.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), withinMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Starts `invocation` (ansible or ansible-playbook, as the cold path would spawn it) forked
   * from the fork server; null when it must or can only run cold. Never rejects.
   */
  async fork(invocation: Invocation, env: Record<string, string>, events: boolean): Promise<StartedProcess | null> {
    const server = this.server;
    if (!server?.ready) return null;
    const cold = await whyCold(invocation, env, server.env);
    if (cold) {
      this.logger.debug(`Job runs cold: ${cold}`);
      return null;
    }
    if ((await configFingerprint(server.env)) !== server.fingerprint) {
      this.logger.log('The Ansible configuration changed: the warm runner restarts with it; this job runs cold');
      this.replace(server);
      return null;
    }
    try {
      return await forkWarm(server.socketPath, { argv: [invocation.command, ...invocation.args], env, cwd: invocation.cwd, events }, this.timing.answerWithinMs);
    } catch (err) {
      const refused = err as WarmStartRefused;
      if (refused.serverAtFault) {
        this.logger.warn(`The warm runner failed a job start (${refused.message}): it is replaced, and the job runs cold`);
        this.replace(server);
      } else {
        this.logger.debug(`Job runs cold: ${refused.message}`);
      }
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const server = this.server;
    this.server = null;
    if (server) await this.kill(server, 'SIGTERM');
  }

  /** The fork server script with ansible's interpreter; the jobs it forks need the launcher beside it. */
  private launcher(): AnsibleLauncher | string {
    const path = buildChildEnv(process.env, this.config.dataDir).PATH;
    const launcher = findAnsibleLauncher(path);
    return typeof launcher === 'string' ? launcher : findAnsibleScript(FORK_SERVER_FILE, path);
  }

  private async spawnServer(launcher: AnsibleLauncher): Promise<void> {
    const env = buildChildEnv(process.env, this.config.dataDir, { callbackPluginDir: findCallbackPluginDir() });
    await mkdir(env.ANSIBLE_LOCAL_TEMP, { recursive: true, mode: 0o700 });
    // A short path (a UNIX socket's is limited to about 100 bytes) that only this user can reach;
    // also the server's working directory, where no ansible.cfg can shape what it imports.
    const socketDir = await mkdtemp(join(tmpdir(), 'flansible-warm-'));
    const socketPath = join(socketDir, 'fork.sock');
    const fingerprint = await configFingerprint(env);
    const [command, args] = scriptCommand(launcher, [socketPath]);
    // Its stdin stays open: when this process ends, by any means, the server reads its end and exits.
    const child = spawn(command, args, { cwd: socketDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const server: ForkServer = { process: child, socketDir, socketPath, env, fingerprint, ready: false };
    if (this.stopped) {
      await this.kill(server, 'SIGTERM');
      return;
    }
    this.server = server;
    const readyTimer = setTimeout(() => {
      this.logger.warn(`The warm runner's fork server was not ready within ${this.timing.readyWithinMs} ms: it is replaced`);
      this.replace(server);
    }, this.timing.readyWithinMs);
    const ended = (how: string) => {
      clearTimeout(readyTimer);
      void rm(socketDir, { recursive: true, force: true });
      if (this.server !== server) return;
      this.server = null;
      if (this.stopped) return;
      this.logger.warn(`The warm runner's fork server ended (${how}): it is restarted; jobs run cold meanwhile`);
      this.scheduleRestart();
    };
    // Not started at all (the interpreter is gone): no 'exit' follows.
    child.once('error', (err) => child.pid === undefined && ended(err.message));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => this.logger.warn(`fork server: ${text.trimEnd()}`));
    let firstLine = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      if (server.ready) return;
      firstLine += text;
      if (!firstLine.includes('\n')) return;
      clearTimeout(readyTimer);
      server.ready = true;
      this.restarts = 0;
      this.logger.log(`Warm runner ready: fork server ${child.pid} has imported Ansible`);
      this.readyWaiters.splice(0).forEach((wake) => wake());
    });
    child.once('exit', (code, signal) => ended(signal ?? `code ${code}`));
  }

  /** Kills `server` (a hung or stale one); its exit handler restarts it. */
  private replace(server: ForkServer): void {
    if (this.server === server) {
      this.server = null;
      this.scheduleRestart();
    }
    void this.kill(server, 'SIGKILL');
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const delay = backoffDelay(++this.restarts, this.timing.restartDelaysMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, delay);
    this.restartTimer.unref();
  }

  private kill(server: ForkServer, signal: NodeJS.Signals): Promise<void> {
    const { process: child } = server;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return rm(server.socketDir, { recursive: true, force: true });
    return new Promise((resolve) => {
      child.once('exit', () => void rm(server.socketDir, { recursive: true, force: true }).then(resolve, resolve));
      child.kill(signal);
    });
  }
}
