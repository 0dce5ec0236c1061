import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildChildEnv } from './child-env';
import { Invocation } from './invocation';
import { OutputBatcher } from './output-batcher';
import { processGroupIsAlive, ProcessResult, runProcess, RunProcessOptions, signalProcessGroup } from './process-runner';
import { InMemoryOutputStore } from './testing/in-memory-output-store';

const JOB = 'job-1';
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'flansible-runner-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const invocation = (command: string, ...args: string[]): Invocation => ({ command, args, cwd: dataDir, label: command });
const node = (script: string) => invocation(process.execPath, '-e', script);

interface Run {
  result: ProcessResult;
  output: string;
  store: InMemoryOutputStore;
}

/** runProcess with its output batched into the in-memory store, as JobExecutor does. */
async function run(
  what: Invocation,
  options: Partial<RunProcessOptions> = {},
  store = new InMemoryOutputStore(),
): Promise<Run> {
  const batcher = new OutputBatcher((chunk) => store.appendOutput(JOB, chunk));
  const result = await runProcess(what, {
    env: buildChildEnv(process.env, dataDir),
    onOutput: (text) => batcher.write(text),
    ...options,
  });
  await batcher.flush();
  return { result, output: await store.readOutput(JOB), store };
}

/** No process of the group runs any more; the group itself disappears once init has reaped them. */
async function expectGroupGone(pgid: number): Promise<void> {
  expect(await processGroupIsAlive(pgid)).toBe(false);
  for (let i = 0; i < 250 && signalProcessGroup(pgid, 0); i++) await new Promise((r) => setTimeout(r, 20));
  expect(() => process.kill(-pgid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
}

describe('runProcess', () => {
  it('merges stdout and stderr in arrival order and reports the exit code', async () => {
    const { result, output } = await run(
      invocation('sh', '-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; exit 3'),
    );
    expect(output).toBe('one\ntwo\nthree\n');
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false, spawnError: null });
  });

  it('never splits a UTF-8 character that arrives in two reads', async () => {
    const { output } = await run(
      node(
        `process.stdout.write(Buffer.from([0xe2, 0x82])); setTimeout(() => process.stdout.write(Buffer.from([0xac, 0x0a])), 100);`,
      ),
    );
    expect(output).toBe('€\n');
  });

  it('passes arguments as they are, never through a shell', async () => {
    const canary = join(dataDir, 'canary');
    const args = [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, '&& touch x', "'\"\\"];
    const { output } = await run(invocation(process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', ...args));
    expect(JSON.parse(output)).toEqual(args);
    await expect(rm(canary)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stores output in batches while the process runs, one append at a time', async () => {
    // The child prints a line, then waits until the store has that line before the next one:
    // so each line is provably visible while the process still runs.
    const ackDir = await mkdtemp(join(dataDir, 'ack-'));
    const store = new InMemoryOutputStore();
    store.appendDelayMs = 30;
    store.onAppend = (chunk) => {
      for (const [, n] of chunk.matchAll(/line (\d)/g)) void writeFile(join(ackDir, n), '');
    };
    const script = `
      const { existsSync } = require('node:fs');
      let i = 0;
      const next = () => {
        if (i === 4) return;
        console.log('line ' + i);
        const wait = setInterval(() => {
          if (existsSync(${JSON.stringify(ackDir)} + '/' + i)) { clearInterval(wait); i++; next(); }
        }, 10);
      };
      next();`;
    const { output } = await run(node(script), {}, store);
    expect(output).toBe('line 0\nline 1\nline 2\nline 3\n');
    expect(store.appends.length).toBe(4);
    expect(store.maxConcurrentAppends).toBe(1);
  });

  it('keeps a large, fast output whole and in few appends when the store is slow', async () => {
    const store = new InMemoryOutputStore();
    store.appendDelayMs = 20;
    const line = `${'x'.repeat(99)}\n`;
    const { output } = await run(node(`for (let i = 0; i < 20000; i++) process.stdout.write(${JSON.stringify(line)});`), {}, store);
    expect(output).toBe(line.repeat(20000));
    expect(store.appends.length).toBeLessThan(100);
    expect(store.maxConcurrentAppends).toBe(1);
  });

  it('goes on when an append fails and says in the output what was lost', async () => {
    const store = new InMemoryOutputStore();
    store.failAppends = 1;
    const { output } = await run(invocation('sh', '-c', 'echo lost; sleep 0.4; echo kept'), {}, store);
    expect(output).toMatch(/^\n\[flansible: 5 characters of output could not be stored: store unavailable\]\nkept\n$/);
  });

  it('on timeout stops the whole process group, SIGKILL after the grace period if SIGTERM is ignored', async () => {
    let pgid = 0;
    const { result, output } = await run(
      // The trap makes the shell and its background sleeps (which inherit it) ignore SIGTERM.
      invocation('sh', '-c', 'trap "" TERM; sleep 301 & sleep 302 & echo started; wait'),
      { timeoutMs: 1_000, killGraceMs: 300, onSpawn: (pid) => (pgid = pid) },
    );
    expect(output).toBe('started\n');
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null });
    await expectGroupGone(pgid);
  });

  it('stops what the child left behind in its group once the child itself has ended', async () => {
    const { result, output } = await run(invocation('sh', '-c', 'sleep 303 & echo started'));
    expect(output).toBe('started\n');
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    await expectGroupGone(result.pid!);
  });

  it('stops the process group when aborted', async () => {
    const abort = new AbortController();
    const { result } = await run(invocation('sh', '-c', 'sleep 304 & sleep 305'), {
      signal: abort.signal,
      onSpawn: () => setTimeout(() => abort.abort(), 200),
    });
    expect(result).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
    await expectGroupGone(result.pid!);
  });

  it('reports a command that cannot start without throwing', async () => {
    const { result } = await run(invocation('flansible-no-such-command'));
    expect(result.pid).toBeNull();
    expect(result.spawnError).toMatchObject({ code: 'ENOENT' });
  });

  describe('idle timeout', () => {
    it('stops the whole process group when stdout and stderr stay silent too long', async () => {
      let pgid = 0;
      const { result, output } = await run(
        invocation('sh', '-c', 'trap "" TERM; echo started; sleep 306 & wait'),
        { idleTimeoutMs: 800, killGraceMs: 300, onSpawn: (pid) => (pgid = pid) },
      );
      expect(output).toBe('started\n');
      expect(result).toMatchObject({ idleTimedOut: true, timedOut: false, aborted: false, signal: 'SIGKILL' });
      await expectGroupGone(pgid);
    });

    it('lets a process that keeps printing run past the idle timeout', async () => {
      const { result, output } = await run(invocation('sh', '-c', 'for i in 1 2 3 4 5 6; do echo tick; sleep 0.3; done'), {
        idleTimeoutMs: 1_500,
      });
      expect(output).toBe('tick\n'.repeat(6));
      expect(result).toMatchObject({ exitCode: 0, idleTimedOut: false });
    });

    it('does not count the time spent waiting for a slow store as silence', async () => {
      const store = new InMemoryOutputStore();
      store.appendDelayMs = 500;
      const line = `${'y'.repeat(99)}\n`;
      // A burst the store takes a while over, then a tick every 100 ms: never silent for 300 ms.
      const { result, output } = await run(
        node(`
          for (let i = 0; i < 4000; i++) process.stdout.write(${JSON.stringify(line)});
          let ticks = 0;
          const timer = setInterval(() => { console.log('tick'); if (++ticks === 15) clearInterval(timer); }, 100);`),
        { idleTimeoutMs: 300 },
        store,
      );
      expect(result).toMatchObject({ exitCode: 0, idleTimedOut: false });
      expect(output).toBe(line.repeat(4000) + 'tick\n'.repeat(15));
      // The store was slow enough that reading paused for longer than the idle timeout.
      expect(store.appends.length).toBeGreaterThan(1);
    });
  });

  describe('events pipe', () => {
    it('hands what the child writes on file descriptor 3 to onEventData, apart from its output', async () => {
      const events: string[] = [];
      const { result, output } = await run(
        node(`const fs = require('node:fs'); fs.writeSync(3, '{"a":1}\\n'); console.log('human'); fs.writeSync(3, '{"b":2}\\n');`),
        { onEventData: (text) => void events.push(text) },
      );
      expect(result.exitCode).toBe(0);
      expect(output).toBe('human\n');
      expect(events.join('')).toBe('{"a":1}\n{"b":2}\n');
    });

    it('gives the child no file descriptor 3 without onEventData', async () => {
      const { output } = await run(invocation('sh', '-c', '{ echo x >&3; } 2>/dev/null && echo open || echo closed'));
      expect(output).toBe('closed\n');
    });
  });

  describe('child environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    });

    it('does not hand the service’s secrets to the child', async () => {
      Object.assign(process.env, {
        FLANSIBLE_DATABASE_URL: 'postgres://flansible:db-secret@db/flansible',
        FLANSIBLE_AMQP_URL: 'amqp://guest:mq-secret@mq',
        DATABASE_URL: 'postgres://x:other-secret@db',
        ANSIBLE_BECOME_PASSWORD: 'become-secret',
        ANSIBLE_HOST_KEY_CHECKING: 'False',
      });
      const { output } = await run(invocation('env'));
      expect(output).not.toMatch(/FLANSIBLE_|DATABASE_URL|secret/);
      expect(output).toContain('ANSIBLE_HOST_KEY_CHECKING=False\n');
      expect(output).toContain('PYTHONUNBUFFERED=1\n');
      expect(output).toContain(`PATH=${process.env.PATH}\n`);
    });
  });
});
