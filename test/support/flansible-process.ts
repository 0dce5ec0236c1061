import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const GATEWAY_MAIN = join(ROOT, 'dist/apps/gateway/src/main.js');
export const RUNNER_MAIN = join(ROOT, 'dist/apps/runner/src/main.js');

/** Ports freePort() hands out: one band per Jest worker, below the kernel's ephemeral range (32768 up). */
const PORT_BANDS = { start: 20_000, size: 1_500, count: 8 };
const portBand = PORT_BANDS.start + ((Number(process.env.JEST_WORKER_ID ?? '1') - 1) % PORT_BANDS.count) * PORT_BANDS.size;
/** Where in its band this file starts: files that follow each other on one worker do not start alike. */
let nextPort = Math.floor(Math.random() * PORT_BANDS.size);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port that nothing listens on, for a process started next to bind. Not one the kernel picks for
 * port 0: those come from the ephemeral range, where outgoing connections take their local ports
 * and where another worker's freePort() could get the same one before either process has bound it
 * (seen as EADDRINUSE with four workers). Each Jest worker takes the ports of a band of its own in
 * turn, skipping any in use.
 */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < PORT_BANDS.size; tried++) {
    const port = portBand + (nextPort++ % PORT_BANDS.size);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${portBand}-${portBand + PORT_BANDS.size - 1}`);
}

/** A real, built Flansible app (gateway or runner) running as a child process. */
export class FlansibleProcess {
  private output = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  static start(name: string, main: string, env: Record<string, string>): FlansibleProcess {
    const child = spawn(process.execPath, [main], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new FlansibleProcess(name, child);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get logs(): string {
    return this.output;
  }

  /** Waits until the process has printed `pattern`, failing with its logs if it exits first. */
  async waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}):\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log ${pattern} in time:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Sends a signal and returns at once (SIGTERM: the process drains; a second one stops it). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** kill -9: the process gets no chance to clean up. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}
