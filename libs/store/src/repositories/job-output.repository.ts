import { Kysely, sql } from 'kysely';
import { OutputLines } from '../job-records';
import { countNewlines, sliceLines, storedChunks } from '../output-lines';
import { StoreDatabase } from '../store-database';
import { storableText } from './job-rows';

/** Rows per INSERT: 4 parameters each. */
const INSERT_ROWS = 1_000;

/**
 * A job's output (job_output), line-numbered as it is appended. The job row's counters are
 * advanced by an UPDATE ... RETURNING that comes first in the append's transaction: in PostgreSQL
 * it locks the row until commit, so concurrent appends to one job queue up behind it; SQLite runs
 * one write transaction at a time anyway.
 */
export class JobOutputRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /**
   * One UPDATE of the job row and an INSERT of the chunk's rows, in one transaction: the cost does
   * not grow with the output already stored. The job row's line count and "last line open" flag give the chunk its
   * line numbers (see placeChunk in output-lines.ts, which this does in SQL); a large chunk is
   * stored as several rows of at most STORED_CHUNK_CHARS (storedChunks).
   */
  async append(id: string, chunk: string): Promise<void> {
    if (chunk === '') return;
    const text = storableText(chunk);
    const newlines = countNewlines(text);
    const closesLastLine = text.endsWith('\n') ? 1 : 0;
    await this.db.transaction().execute(async (trx) => {
      // The chunk starts on a new line unless the last one is open; its end line is the new total.
      const job = await trx
        .updateTable('jobs')
        .set({
          output_lines: sql<number>`output_lines + 1 - output_line_open + ${newlines - closesLastLine}`,
          output_line_open: 1 - closesLastLine,
        })
        .where('id', '=', id)
        .returning('output_lines')
        .executeTakeFirst();
      if (!job) throw new Error(`no job ${id}: output must belong to an existing job`);
      const rows = storedChunks(text, Number(job.output_lines)).map((c) => ({ job_id: id, chunk: c.chunk, start_line: c.startLine, end_line: c.endLine }));
      // In statements of a bounded number of parameters (SQLite allows 32,766 at most).
      for (let i = 0; i < rows.length; i += INSERT_ROWS) await trx.insertInto('job_output').values(rows.slice(i, i + INSERT_ROWS)).execute();
    });
  }

  async read(id: string): Promise<string> {
    const rows = await this.db
      .selectFrom('job_output')
      .select('chunk')
      .where('job_id', '=', id)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.chunk).join('');
  }

  /**
   * Reads only the chunks overlapping the range. Line numbers never decrease from one chunk to the
   * next, so those are the chunks ending on lines `from`..`to` plus the first one ending past `to`
   * (when it starts on or before `to`): one short range scan of the (job_id, end_line) index,
   * however long the output. The
   * totals and the chunks come from one snapshot (repeatable read in PostgreSQL; a SQLite read
   * transaction is one), so a concurrent append cannot make them disagree.
   */
  async readLines(id: string, from: number, to: number): Promise<OutputLines> {
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const job = await trx
          .selectFrom('jobs')
          .select(['output_lines', 'output_line_open'])
          .where('id', '=', id)
          .executeTakeFirst();
        const totalLines = job ? Number(job.output_lines) : 0;
        const endsWithNewline = !job || Number(job.output_line_open) === 0;
        const first = Math.max(1, Math.floor(from));
        const last = Math.min(Math.floor(to), totalLines);
        if (last < first) return { lines: [], from: first, totalLines, endsWithNewline };

        const chunks = await trx
          .selectFrom('job_output')
          .select(['chunk', 'start_line'])
          .where('job_id', '=', id)
          .where('end_line', '>=', first)
          // The first chunk ending past `last` may still hold the start of line `last`.
          .where('end_line', '<=', (eb) =>
            eb.fn.coalesce(
              eb
                .selectFrom('job_output')
                .select('end_line')
                .where('job_id', '=', id)
                .where('end_line', '>', last)
                .orderBy('end_line')
                .limit(1),
              eb.val(last),
            ),
          )
          .where('start_line', '<=', last)
          .orderBy('id')
          .execute();
        const lines =
          chunks.length === 0
            ? []
            : sliceLines(chunks.map((c) => c.chunk).join(''), Number(chunks[0].start_line), first, last);
        return { lines, from: first, totalLines, endsWithNewline };
      });
  }
}
