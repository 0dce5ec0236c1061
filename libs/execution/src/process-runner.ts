import { ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import { readdir, readFile } from 'node:fs/promises';
import { LaunchPath } from '@flansible/contracts';
import { Invocation } from './invocation';

export const DEFAULT_KILL_GRACE_MS = 5_000;

export interface RunProcessOptions {
  env: Record<string, string>;
  /**
   * Receives stdout and stderr merged in arrival order, as whole UTF-8 characters. When it
   * returns a promise, reading pauses until it resolves (the child then blocks on its pipe).
   */
  onOutput: (text: string) => Promise<void> | void;
  /**
   * When set, the child gets a fourth pipe (its file descriptor 3, where the events callback
   * plugin writes) and this receives what arrives on it, as whole UTF-8 characters. A returned
   * promise pauses reading like onOutput's.
   */
  onEventData?: (text: string) => Promise<void> | void;
  /** Stop the process group after this long; none when undefined or 0. */
  timeoutMs?: number;
  /**
   * Stop the process group when stdout and stderr stay silent this long; none when undefined or
   * 0. Time spent paused for the store (onOutput's promise) does not count as silence.
   */
  idleTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL to the process group. */
  killGraceMs?: number;
  /** Aborting stops the process group the same way as a timeout. */
  signal?: AbortSignal;
  /** Called once the child has started (its pid is also its process group id). */
  onSpawn?: (pid: number) => void;
  /**
   * Starts the child warm instead (forked by the warm runner's fork server); null or a rejection:
   * it is spawned cold as usual. Everything after the start is the same for both.
   */
  startWarm?: () => Promise<StartedProcess | null>;
}

/** A started child, spawned or forked: what runProcess watches until its group is gone. */
export interface StartedProcess {
  /** Its pid, also its process group id. */
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** Its file descriptor 3, when asked for (onEventData). */
  events: Readable | null;
  /** Resolves when the child itself has ended (its group may still hold others). */
  exited: Promise<void>;
  /** Resolves when it has ended and its streams have closed, with how it ended. */
  closed: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
}

export interface ProcessResult {
  /** Process (and process group) id; null when it could not be started. */
  pid: number | null;
  exitCode: number | null;
  /** The signal that ended it, when one did. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped because it printed nothing for idleTimeoutMs. */
  idleTimedOut: boolean;
  aborted: boolean;
  /** The child could not be started (ENOENT, EACCES, …). */
  spawnError: Error | null;
  /** How it was started; null when it was not. */
  launchPath: LaunchPath | null;
}

/** Sends a signal to a whole process group; false when no process of the group is left. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * True while a process of the group is alive. Zombies do not count: a killed grandchild, orphaned,
 * stays a zombie until init reaps it, which some inits do late (or never, when PID 1 is not an
 * init), and it no longer runs anything.
 */
export async function processGroupIsAlive(pgid: number): Promise<boolean> {
  if (!signalProcessGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  const states = await Promise.all(
    pids.map((pid) =>
      readFile(`/proc/${pid}/stat`, 'utf8').then(
        (stat) => {
          // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
          const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return Number(pgrp) === pgid && state !== 'Z' && state !== 'X';
        },
        () => false, // the process ended meanwhile
      ),
    ),
  );
  return states.includes(true);
}

/** Polls until the group has no live process left; false when `withinMs` passed first. */
async function waitForGroupGone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (await processGroupIsAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Spawns the child without a shell, in a process group of its own (detached: setsid), with a
 * pipe on its descriptor 3 when asked; or why it could not be started.
 */
function spawnCold(invocation: Invocation, options: RunProcessOptions): Promise<StartedProcess | { spawnError: Error }> {
  let child: ChildProcess;
  try {
    child = spawn(invocation.command, invocation.args, {
      cwd: invocation.cwd,
      env: options.env,
      detached: true,
      shell: false,
      stdio: options.onEventData ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // Synchronous failures: invalid arguments (e.g. a NUL byte), unusual spawn errors.
    return Promise.resolve({ spawnError: err as Error });
  }
  const pid = child.pid;
  // Emitted when the child could not be started; after a start, 'close' reports the end.
  if (pid === undefined) return new Promise((resolve) => child.once('error', (spawnError) => resolve({ spawnError })));
  child.on('error', () => undefined);
  return Promise.resolve({
    pid,
    stdout: child.stdout!,
    stderr: child.stderr!,
    events: options.onEventData ? (child.stdio[3] as Readable) : null,
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
    closed: new Promise((resolve) => child.once('close', (exitCode, signal) => resolve({ exitCode, signal }))),
  });
}

/**
 * Runs one child process without a shell, in a process group of its own — spawned cold, or
 * forked warm when `startWarm` gives one — so a timeout, an idle timeout or an abort can stop
 * the whole tree: SIGTERM to the group, SIGKILL after the grace period. With onEventData the
 * child also gets a stream on its descriptor 3. Whatever the group still holds when the child
 * itself has ended (a background grandchild) is stopped the same way, and the promise resolves
 * only once the group is gone. Never rejects: a child that cannot start is reported in `spawnError`.
 */
export async function runProcess(invocation: Invocation, options: RunProcessOptions): Promise<ProcessResult> {
  const result: ProcessResult = {
    pid: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    idleTimedOut: false,
    aborted: false,
    spawnError: null,
    launchPath: null,
  };
  if (options.signal?.aborted) return { ...result, aborted: true };
  const warm = options.startWarm ? await options.startWarm().catch(() => null) : null;
  const started = warm ?? (await spawnCold(invocation, options));
  if ('spawnError' in started) return { ...result, spawnError: started.spawnError };
  return watch(started, options, { ...result, pid: started.pid, launchPath: warm ? LaunchPath.Warm : LaunchPath.Cold });
}

/** Streams the started child's output, holds it to its limits, and resolves once its group is gone. */
function watch(child: StartedProcess, options: RunProcessOptions, result: ProcessResult): Promise<ProcessResult> {
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const pid = child.pid;
  return new Promise<ProcessResult>((resolve) => {
    let settled = false;
    let timeoutTimer: NodeJS.Timeout | null = null;
    let idleTimer: NodeJS.Timeout | null = null;
    let terminating: Promise<void> | null = null;

    const terminateGroup = (): Promise<void> =>
      (terminating ??= (async () => {
        if (!signalProcessGroup(pid, 'SIGTERM')) return;
        if (await waitForGroupGone(pid, killGraceMs)) return;
        signalProcessGroup(pid, 'SIGKILL');
        await waitForGroupGone(pid, 2_000);
      })().catch(() => undefined)); // EPERM: nothing more this process can do about the group

    const onAbort = () => {
      result.aborted = true;
      void terminateGroup();
    };

    const settle = (update: Partial<ProcessResult>) => {
      if (settled) return;
      settled = true;
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (idleTimer) clearTimeout(idleTimer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, ...update });
    };

    options.onSpawn?.(pid);

    if (options.timeoutMs) {
      timeoutTimer = setTimeout(() => {
        result.timedOut = true;
        void terminateGroup();
      }, options.timeoutMs);
    }
    // An abort while a warm start was under way counts as soon as the child is there.
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    const idleTimeoutMs = options.idleTimeoutMs;
    let stopped = false;
    const resetIdleTimer = () => {
      if (!idleTimeoutMs || stopped || result.idleTimedOut) return;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        result.idleTimedOut = true;
        void terminateGroup();
      }, idleTimeoutMs);
    };
    const stopIdleTimer = () => {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
    };
    resetIdleTimer();

    const eventStream = options.onEventData ? child.events : null;
    const streams = [child.stdout, child.stderr, ...(eventStream ? [eventStream] : [])];
    let pauses = 0;
    const deliver = (text: string, to: (text: string) => Promise<void> | void) => {
      if (!text) return;
      const backpressure = to(text);
      if (!backpressure) return;
      if (pauses++ === 0) {
        streams.forEach((s) => s.pause());
        // A child blocked on a full pipe is not idle.
        stopIdleTimer();
      }
      void backpressure.then(() => {
        if (--pauses === 0) {
          streams.forEach((s) => s.resume());
          resetIdleTimer();
        }
      });
    };
    const read = (stream: Readable, to: (text: string) => Promise<void> | void, isOutput: boolean) => {
      // One decoder per stream: a character split across two reads is joined, never mangled,
      // and bytes of two streams are never mixed inside one character.
      const decoder = new StringDecoder('utf8');
      stream.on('data', (bytes: Buffer) => {
        if (isOutput && pauses === 0) resetIdleTimer();
        deliver(decoder.write(bytes), to);
      });
      stream.on('end', () => deliver(decoder.end(), to));
    };
    read(child.stdout, options.onOutput, true);
    read(child.stderr, options.onOutput, true);
    if (eventStream) read(eventStream, options.onEventData!, false);

    // The child itself has ended: stop whatever it left behind in its group.
    void child.exited.then(() => {
      stopped = true;
      stopIdleTimer();
      void terminateGroup();
    });
    void child.closed.then(({ exitCode, signal }) => {
      void terminateGroup().then(() => settle({ exitCode, signal }));
    });
  });
}
