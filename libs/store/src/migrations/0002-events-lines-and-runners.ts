import { Kysely, Migration } from 'kysely';
import { EMPTY_OUTPUT, placeChunk } from '../output-lines';
import { addMissingColumns, inTransaction } from './migration-columns';

/**
 * Numbers the lines of output written before migration 0002 (end_line still 0: a stored chunk is
 * never empty, so a numbered one ends on line 1 or later). Each job is renumbered from its first
 * chunk in one transaction, so an interrupted run leaves no job half done.
 */
async function numberExistingOutput(db: Kysely<any>): Promise<void> {
  const pending = await db.selectFrom('job_output').select('job_id').distinct().where('end_line', '=', 0).execute();
  for (const { job_id: jobId } of pending as { job_id: string }[]) {
    await inTransaction(db, async (trx) => {
      const chunks = (await trx
        .selectFrom('job_output')
        .select(['id', 'chunk'])
        .where('job_id', '=', jobId)
        .orderBy('id')
        .execute()) as { id: number | string; chunk: string }[];
      let state = EMPTY_OUTPUT;
      for (const { id, chunk } of chunks) {
        const placed = placeChunk(state, chunk);
        await trx
          .updateTable('job_output')
          .set({ start_line: placed.startLine, end_line: placed.endLine })
          .where('id', '=', id)
          .execute();
        state = placed.after;
      }
      await trx
        .updateTable('jobs')
        .set({ output_lines: state.lines, output_line_open: state.lastLineOpen ? 1 : 0 })
        .where('id', '=', jobId)
        .execute();
    });
  }
}

/**
 * Priorities, idempotent submission, cancel requests, line-numbered output, structured events and
 * runner heartbeats.
 */
export function eventsLinesAndRunners(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [
        { name: 'priority', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'idempotency_key', type: 'text' },
        { name: 'cancel_requested_at', type: 'bigint' },
        { name: 'output_lines', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'output_line_open', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'event_count', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
      ]);
      // NULL keys never collide (both engines treat NULLs in a unique index as distinct).
      await db.schema
        .createIndex('jobs_submitted_by_idempotency_key_uq')
        .ifNotExists()
        .unique()
        .on('jobs')
        .columns(['submitted_by', 'idempotency_key'])
        .execute();
      // History filters, newest first and keyset-paginated on (created_at, id) within each.
      for (const column of ['submitted_by', 'inventory', 'kind']) {
        await db.schema
          .createIndex(`jobs_${column}_created_at_id_idx`)
          .ifNotExists()
          .on('jobs')
          .columns([column, 'created_at', 'id'])
          .execute();
      }

      await addMissingColumns(db, 'job_output', [
        { name: 'start_line', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
        { name: 'end_line', type: 'integer', build: (c) => c.notNull().defaultTo(0) },
      ]);
      // readOutputLines: a range scan on end_line within the job; id settles ties in order.
      await db.schema
        .createIndex('job_output_job_id_end_line_idx')
        .ifNotExists()
        .on('job_output')
        .columns(['job_id', 'end_line', 'id'])
        .execute();
      await numberExistingOutput(db);

      await db.schema
        .createTable('job_events')
        .ifNotExists()
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('counter', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('host', 'text')
        .addColumn('task', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_events_pk', ['job_id', 'counter'])
        .execute();
      // Events of one host, and of some types (the stats event for the summary), in counter order.
      await db.schema
        .createIndex('job_events_job_id_host_counter_idx')
        .ifNotExists()
        .on('job_events')
        .columns(['job_id', 'host', 'counter'])
        .execute();
      await db.schema
        .createIndex('job_events_job_id_type_counter_idx')
        .ifNotExists()
        .on('job_events')
        .columns(['job_id', 'type', 'counter'])
        .execute();

      await db.schema
        .createTable('runners')
        .ifNotExists()
        .addColumn('runner_id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('runners').ifExists().execute();
      await db.schema.dropTable('job_events').ifExists().execute();
      await db.schema.dropIndex('job_output_job_id_end_line_idx').ifExists().execute();
      await db.schema.alterTable('job_output').dropColumn('end_line').execute();
      await db.schema.alterTable('job_output').dropColumn('start_line').execute();
      for (const index of [
        'jobs_kind_created_at_id_idx',
        'jobs_inventory_created_at_id_idx',
        'jobs_submitted_by_created_at_id_idx',
        'jobs_submitted_by_idempotency_key_uq',
      ]) {
        await db.schema.dropIndex(index).ifExists().execute();
      }
      const added = ['event_count', 'output_line_open', 'output_lines', 'cancel_requested_at', 'idempotency_key', 'priority'];
      for (const column of added) await db.schema.alterTable('jobs').dropColumn(column).execute();
    },
  };
}
