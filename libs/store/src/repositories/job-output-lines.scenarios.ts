import { JobKind, JobStatus } from '@flansible/contracts';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createJobStore, openStoreDatabase } from '../create-job-store';
import { OutputLines } from '../job-records';
import { JobStore } from '../job-store';
import { STORED_CHUNK_CHARS } from '../output-lines';
import { migrateTo } from '../store-migrations';
import { commandSpec, newJob } from '../testing/job-fixtures';
import { StoreBackend, StoreLocation, withMigratedStores } from '../testing/store-backends';

/** Deterministic pseudo-random numbers (mulberry32), so a failing split can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The lines of a text as the store numbers them: a final newline ends the last line. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** What readOutputLines must answer, worked out from the whole text. */
function expectedRange(text: string, from: number, to: number): OutputLines {
  const all = linesOf(text);
  const first = Math.max(1, from);
  const last = Math.min(to, all.length);
  return {
    lines: last < first ? [] : all.slice(first - 1, last),
    from: first,
    totalLines: all.length,
    endsWithNewline: text === '' || text.endsWith('\n'),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** JobOutputRepository.readLines: line numbers across chunks, a 100,000-line output, migration 0002. */
export function describeJobOutputLines(backend: StoreBackend): void {
  describe(`output lines on ${backend.name}`, () => {
    let location: StoreLocation;
    let store: JobStore;
    let other: JobStore;

    withMigratedStores(backend, (opened) => ({ store, other, location } = opened));

    it('numbers lines across chunks that split and continue them', async () => {
      const job = newJob();
      await store.createJob(job);
      expect(await store.readOutputLines(job.id, 1, 10)).toEqual({ lines: [], from: 1, totalLines: 0, endsWithNewline: true });

      let text = '';
      const append = async (chunk: string) => {
        await store.appendOutput(job.id, chunk);
        text += chunk;
      };
      await append('a\nb');
      expect(await other.readOutputLines(job.id, 1, 10)).toEqual({
        lines: ['a', 'b'],
        from: 1,
        totalLines: 2,
        endsWithNewline: false,
      });
      await append('c\n');
      await append('\n');
      await append('');
      await append('d');
      await append('e\nf\n');
      expect(text).toBe('a\nbc\n\nde\nf\n');
      expect((await store.findJob(job.id))?.outputLines).toBe(5);

      for (const [from, to] of [
        [1, 5],
        [2, 2],
        [3, 3],
        [4, 4],
        [2, 4],
        [5, 9],
        [6, 9],
        [0, 1],
        [-5, 2],
        [4, 3],
      ]) {
        expect(await store.readOutputLines(job.id, from, to)).toEqual(expectedRange(text, from, to));
      }
      expect(await store.readOutputLines(randomUUID(), 1, 5)).toEqual({ lines: [], from: 1, totalLines: 0, endsWithNewline: true });
    });

    it('numbers concurrent appends to one job in the order they were stored', async () => {
      const job = newJob();
      await store.createJob(job);
      // PostgreSQL: two pools, so appends really overlap and queue on the job row's lock. SQLite: one
      // store, whose one connection takes the transactions in turn (two connections in one process
      // would block each other: better-sqlite3 waits for a lock synchronously, on the only thread).
      const writers = backend.name === 'SQLite' ? [store] : [store, other];
      // Fragments that leave lines open, so each append depends on the state the previous one left.
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          writers[i % writers.length].appendOutput(job.id, i % 3 ? `c${i}-a\nc${i}-b` : `c${i}\n`),
        ),
      );
      const text = await store.readOutput(job.id);
      const total = linesOf(text).length;
      expect((await store.findJob(job.id))?.outputLines).toBe(total);
      expect(await store.readOutputLines(job.id, 1, total)).toEqual(expectedRange(text, 1, total));
      for (let line = 1; line <= total; line++) {
        expect((await store.readOutputLines(job.id, line, line)).lines).toEqual(expectedRange(text, line, line).lines);
      }
    });

    it('stores one large append as rows of at most STORED_CHUNK_CHARS, each read only by the pages it overlaps', async () => {
      const job = newJob();
      await store.createJob(job);
      const text = Array.from({ length: 20_000 }, (_, i) => `line ${i + 1} ${'z'.repeat(i % 40)}\n`).join('') + 'open';
      await store.appendOutput(job.id, text);
      const { db } = openStoreDatabase(location.config);
      try {
        const rows = await db.selectFrom('job_output').select(['chunk', 'start_line', 'end_line']).where('job_id', '=', job.id).orderBy('id').execute();
        expect(rows.length).toBeGreaterThan(Math.floor(text.length / STORED_CHUNK_CHARS));
        expect(rows.every((r) => r.chunk.length <= STORED_CHUNK_CHARS)).toBe(true);
        expect(rows.map((r) => r.chunk).join('')).toBe(text);
        expect([Number(rows[0].start_line), Number(rows.at(-1)!.end_line)]).toEqual([1, 20_001]);
      } finally {
        await db.destroy();
      }
      for (const [from, to] of [[1, 1000], [9_990, 10_010], [19_500, 20_001]]) {
        expect(await other.readOutputLines(job.id, from, to)).toEqual(expectedRange(text, from, to));
      }
    });

    it('reads any range of a 100,000-line output written in batches that split lines', async () => {
      const random = seededRandom(backend.name === 'SQLite' ? 1 : 2);
      const lineCount = 100_000;
      const lines = Array.from({ length: lineCount }, (_, i) =>
        i % 997 === 0 ? '' : `${i + 1}: ok: [web${i % 50}] => ${'x'.repeat(Math.floor(random() * 60))} ✓`,
      );
      // The last line has no newline yet: a partial last line.
      const text = lines.join('\n');

      // ~100 batches of random sizes, cut anywhere (mostly mid-line).
      const cuts = new Set<number>();
      while (cuts.size < 99) cuts.add(1 + Math.floor(random() * (text.length - 1)));
      const borders = [0, ...[...cuts].sort((a, b) => a - b), text.length];
      const job = newJob();
      await store.createJob(job);
      for (let i = 1; i < borders.length; i++) await store.appendOutput(job.id, text.slice(borders[i - 1], borders[i]));
      expect(await store.readOutput(job.id)).toBe(text);

      // Lines on which a chunk border falls: ranges around them span two chunks.
      const lineAt = (offset: number) => linesOf(text.slice(0, offset)).length + (text[offset - 1] === '\n' ? 1 : 0);
      const borderLines = [borders[10], borders[50], borders[98]].map(lineAt);
      const ranges: [number, number][] = [
        [1, 1],
        [1, 1000],
        [lineCount - 999, lineCount],
        [50_001, 51_000],
        [33_333, 33_333],
        ...borderLines.map((line): [number, number] => [line - 2, line + 2]),
        ...borderLines.map((line): [number, number] => [line, line]),
        [lineCount - 5, lineCount + 500], // beyond the end: clipped
        [lineCount + 1, lineCount + 10], // wholly beyond: nothing
        [lineCount, lineCount], // the partial last line
      ];
      for (const [from, to] of ranges) {
        expect(await other.readOutputLines(job.id, from, to)).toEqual(expectedRange(text, from, to));
      }

      const timings: Record<string, string> = {};
      for (const [label, from] of [
        ['first', 1],
        ['middle', 50_001],
        ['last', lineCount - 999],
      ] as const) {
        const samples: number[] = [];
        for (let run = 0; run < 7; run++) {
          const started = performance.now();
          const page = await store.readOutputLines(job.id, from, from + 999);
          samples.push(performance.now() - started);
          expect(page.lines).toHaveLength(1000);
        }
        timings[label] = `${median(samples).toFixed(2)} ms`;
      }
      console.log(
        `${backend.name}: 1,000-line range of a 100,000-line output (${borders.length - 1} chunks), median of 7:`,
        timings,
      );

      // Completing the partial line keeps the count; a new partial line adds one.
      const lastTwo = () => store.readOutputLines(job.id, lineCount, lineCount + 1);
      await store.appendOutput(job.id, '\n');
      expect(await lastTwo()).toEqual(expectedRange(`${text}\n`, lineCount, lineCount + 1));
      await store.appendOutput(job.id, 'tail');
      expect(await lastTwo()).toEqual(expectedRange(`${text}\ntail`, lineCount, lineCount + 1));
      expect((await store.findJob(job.id))?.outputLines).toBe(lineCount + 1);
    });
  });

  describe(`migrating output written before line numbers on ${backend.name}`, () => {
    let location: StoreLocation;
    afterAll(async () => location?.dispose());

    it('numbers the existing chunks, so old output reads by line and new output continues it', async () => {
      location = await backend.fresh();
      const { db, dialect } = openStoreDatabase(location.config);
      const withOutput = randomUUID();
      const withoutOutput = randomUUID();
      const chunks = ['first\nsec', 'ond\n', 'third\n\nfif', 'th'];
      try {
        await migrateTo(db, dialect, '0001_jobs_and_output');
        for (const id of [withOutput, withoutOutput]) {
          // Only the columns of the first schema.
          await db
            .insertInto('jobs')
            .values({
              id,
              kind: JobKind.Command,
              status: JobStatus.Running,
              reason: null,
              return_code: null,
              submitted_by: 'alice',
              inventory: commandSpec.kind === JobKind.Command ? commandSpec.inventoryPath : null,
              spec: JSON.stringify(commandSpec),
              runner_id: 'runner-a',
              created_at: Date.UTC(2023, 0, 1),
              started_at: Date.UTC(2023, 0, 1),
              finished_at: null,
            })
            .execute();
        }
        for (const chunk of chunks) {
          await (db as any).insertInto('job_output').values({ job_id: withOutput, chunk }).execute();
        }
      } finally {
        await db.destroy();
      }

      const store = createJobStore(location.config);
      try {
        await store.migrate();
        const text = chunks.join('');
        expect(await store.findJob(withOutput)).toMatchObject({
          outputLines: 5,
          priority: 0,
          eventCount: 0,
          cancelRequestedAt: null,
        });
        expect(await store.findJob(withoutOutput)).toMatchObject({ outputLines: 0 });
        for (const [from, to] of [
          [1, 5],
          [2, 2],
          [4, 5],
          [5, 5],
        ]) {
          expect(await store.readOutputLines(withOutput, from, to)).toEqual(expectedRange(text, from, to));
        }
        await store.appendOutput(withOutput, ' continued\nsixth\n');
        expect(await store.readOutputLines(withOutput, 5, 6)).toEqual({
          lines: ['fifth continued', 'sixth'],
          from: 5,
          totalLines: 6,
          endsWithNewline: true,
        });
        await store.appendOutput(withoutOutput, 'one\n');
        expect(await store.readOutputLines(withoutOutput, 1, 1)).toEqual({
          lines: ['one'],
          from: 1,
          totalLines: 1,
          endsWithNewline: true,
        });
      } finally {
        await store.close();
      }
    });
  });
}
