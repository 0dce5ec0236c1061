import {
  HostSummary,
  inventoryOf,
  JobEvent,
  JobEventType,
  JobKind,
  JobOutcome,
  JobSpec,
  JobStatus,
  NewJobEvent,
  TERMINAL_JOB_STATUSES,
} from '@flansible/contracts';
import { Kysely, Selectable, sql } from 'kysely';
import {
  CancelResult,
  CreatedJob,
  EventQuery,
  JobListCursor,
  JobListFilter,
  JobRecord,
  JobStore,
  NewJob,
  OutputLines,
} from './job-store';
import { countNewlines, sliceLines } from './output-lines';
import { JobEventsTable, JobsTable, StoreDatabase, StoreDialect } from './store-database';
import { migrateToLatest } from './store-migrations';

/** States a job may still leave; everything else is terminal and final. */
const OPEN_STATUSES: JobStatus[] = [JobStatus.Queued, JobStatus.Running];
const FINAL_STATUSES: JobStatus[] = [...TERMINAL_JOB_STATUSES];

/** Rows per multi-row INSERT: far below the bind-parameter limits of both engines. */
const EVENT_INSERT_BATCH = 500;
/** Jobs deleted per statement by a purge, so no single transaction grows with the purge. */
const PURGE_BATCH = 1000;

/** Host events the summary counts while the play has not reached its final stats. */
const HOST_RESULT_EVENTS: JobEventType[] = [
  JobEventType.HostOk,
  JobEventType.HostFailed,
  JobEventType.HostSkipped,
  JobEventType.HostUnreachable,
];

/**
 * PostgreSQL rejects NUL in text, and a command's output can contain one. Replace it in both
 * dialects so the two stores hold the same thing.
 */
function storableText(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
}

function storableOrNull(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

function toDate(value: number | string | null): Date | null {
  return value === null ? null : new Date(Number(value));
}

function toRecord(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    status: row.status as JobStatus,
    reason: row.reason,
    returnCode: row.return_code,
    submittedBy: row.submitted_by,
    inventory: row.inventory,
    spec: JSON.parse(row.spec) as JobSpec,
    runnerId: row.runner_id,
    createdAt: new Date(Number(row.created_at)),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    priority: Number(row.priority),
    cancelRequestedAt: toDate(row.cancel_requested_at),
    cancelReason: row.cancel_reason ?? null,
    requestId: row.request_id ?? null,
    outputLines: Number(row.output_lines),
    eventCount: Number(row.event_count),
  };
}

function toEvent(row: Selectable<JobEventsTable>): JobEvent {
  return {
    counter: Number(row.counter),
    type: row.type as JobEventType,
    host: row.host,
    task: row.task,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: new Date(Number(row.created_at)),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stats figure as a count: absent, negative or non-numeric values count as 0. */
function count(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function emptySummary(host: string): HostSummary {
  return { host, ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
}

function byHost(a: HostSummary, b: HostSummary): number {
  return a.host < b.host ? -1 : a.host > b.host ? 1 : 0;
}

/**
 * Per-host totals out of the final stats event, whose data.hosts maps each host to Ansible's
 * counters (`failures`, or `failed` as some callbacks spell it). Undefined without such a map.
 */
function summaryFromStats(data: unknown): HostSummary[] | undefined {
  if (!isObject(data) || !isObject(data.hosts)) return undefined;
  return Object.entries(data.hosts)
    .map(([host, raw]) => {
      const stats = isObject(raw) ? raw : {};
      return {
        host,
        ok: count(stats.ok),
        changed: count(stats.changed),
        failed: count(stats.failures ?? stats.failed),
        unreachable: count(stats.unreachable),
        skipped: count(stats.skipped),
        rescued: count(stats.rescued),
        ignored: count(stats.ignored),
      };
    })
    .sort(byHost);
}

/**
 * Per-host totals counted from host events the way Ansible's stats count them, so the live
 * summary agrees with the final one: a changed result is also ok, and a failure with
 * ignore_errors counts as ok and ignored, not failed. A rescue leaves no host event of its own,
 * so `rescued` stays 0 until the stats event.
 */
function summaryFromHostEvents(rows: { host: string | null; type: string; data: string }[]): HostSummary[] {
  const hosts = new Map<string, HostSummary>();
  for (const row of rows) {
    if (row.host === null) continue;
    let summary = hosts.get(row.host);
    if (summary === undefined) {
      summary = emptySummary(row.host);
      hosts.set(row.host, summary);
    }
    const data = JSON.parse(row.data) as unknown;
    const changed = isObject(data) && data.changed === true;
    switch (row.type) {
      case JobEventType.HostOk:
        summary.ok++;
        if (changed) summary.changed++;
        break;
      case JobEventType.HostFailed:
        if (isObject(data) && data.ignore_errors === true) {
          summary.ok++;
          summary.ignored++;
          if (changed) summary.changed++;
        } else {
          summary.failed++;
        }
        break;
      case JobEventType.HostSkipped:
        summary.skipped++;
        break;
      case JobEventType.HostUnreachable:
        summary.unreachable++;
        break;
    }
  }
  return [...hosts.values()].sort(byHost);
}

/**
 * The history query, newest first on (created_at, id); exported for specs that EXPLAIN it. The
 * cursor condition is a bound on created_at plus a tie-break on id, so both engines turn it into
 * an index range rather than a filter.
 */
export function jobListQuery(db: Kysely<StoreDatabase>, filter: JobListFilter, limit: number, cursor?: JobListCursor) {
  let select = db.selectFrom('jobs').selectAll();
  if (filter.statuses !== undefined && filter.statuses.length > 0) {
    select = select.where('status', 'in', filter.statuses);
  }
  if (filter.kind !== undefined) select = select.where('kind', '=', filter.kind);
  if (filter.submittedBy !== undefined) select = select.where('submitted_by', '=', filter.submittedBy);
  if (filter.inventory !== undefined) select = select.where('inventory', '=', filter.inventory);
  if (filter.createdBefore !== undefined) select = select.where('created_at', '<', filter.createdBefore.getTime());
  if (filter.createdAfter !== undefined) select = select.where('created_at', '>', filter.createdAfter.getTime());
  const visibleTo = filter.visibleTo;
  if (visibleTo !== undefined) {
    select = select.where((eb) =>
      visibleTo.inventories.length === 0
        ? eb('submitted_by', '=', visibleTo.user)
        : eb.or([eb('submitted_by', '=', visibleTo.user), eb('inventory', 'in', visibleTo.inventories)]),
    );
  }
  if (cursor !== undefined) {
    const at = cursor.createdAt.getTime();
    select = select
      .where('created_at', '<=', at)
      .where((eb) => eb.or([eb('created_at', '<', at), eb('id', '<', cursor.id)]));
  }
  return select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.floor(limit));
}

/**
 * The JobStore over Kysely: the same SQL for SQLite and PostgreSQL; only the Kysely dialect given
 * to the constructor differs (see createJobStore). Every state change is one guarded UPDATE, so the
 * database, not the caller, decides races between runners. Counters kept on the job row (output
 * lines, events) are advanced by an UPDATE ... RETURNING that comes first in its transaction: in
 * PostgreSQL it locks the row until commit, so concurrent appends to one job queue up behind it;
 * SQLite runs one write transaction at a time anyway.
 */
export class KyselyJobStore extends JobStore {
  private closed?: Promise<void>;

  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {
    super();
  }

  override async migrate(): Promise<void> {
    await migrateToLatest(this.db, this.dialect);
  }

  override async createJob(job: NewJob): Promise<CreatedJob> {
    const idempotencyKey = job.idempotencyKey === undefined ? null : storableText(job.idempotencyKey);
    const row = {
      id: job.id,
      kind: job.spec.kind,
      status: JobStatus.Queued,
      reason: null,
      return_code: null,
      submitted_by: job.submittedBy,
      inventory: inventoryOf(job.spec),
      spec: JSON.stringify(job.spec),
      runner_id: null,
      created_at: job.createdAt.getTime(),
      started_at: null,
      finished_at: null,
      priority: job.priority ?? 0,
      idempotency_key: idempotencyKey,
      idempotency_fingerprint: idempotencyKey === null ? null : (job.idempotencyFingerprint ?? null),
      idempotency_pending_until: idempotencyKey === null ? null : (job.idempotencyPendingUntil?.getTime() ?? null),
      request_id: job.requestId ?? null,
      cancel_requested_at: null,
    };
    if (idempotencyKey === null) {
      await this.db.insertInto('jobs').values(row).execute();
      return { id: job.id, created: true };
    }
    // A few rounds only because the earlier job may be deleted in between (its queuing failed).
    for (let attempt = 0; attempt < 3; attempt++) {
      // Only a clash on (submitted_by, idempotency_key) is skipped; a clash on id still throws.
      const inserted = await this.db
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.columns(['submitted_by', 'idempotency_key']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return { id: job.id, created: true };
      const earlier = await this.db
        .selectFrom('jobs')
        .select(['id', 'idempotency_fingerprint', 'idempotency_pending_until'])
        .where('submitted_by', '=', job.submittedBy)
        .where('idempotency_key', '=', idempotencyKey)
        .executeTakeFirst();
      if (earlier) {
        return {
          id: earlier.id,
          created: false,
          idempotencyFingerprint: earlier.idempotency_fingerprint ?? undefined,
          idempotencyPendingUntil: toDate(earlier.idempotency_pending_until) ?? undefined,
        };
      }
    }
    throw new Error(`could not create job ${job.id}: its idempotency key keeps clashing with a job being deleted`);
  }

  override async confirmIdempotencyKey(id: string): Promise<void> {
    await this.db.updateTable('jobs').set({ idempotency_pending_until: null }).where('id', '=', id).execute();
  }

  /** An INSERT beside the job, never an UPDATE of it: see migration 0005 (claims must not skip the job). */
  override async markPublished(id: string, at: Date): Promise<void> {
    await this.db
      .insertInto('job_publications')
      .columns(['job_id', 'published_at'])
      // Nothing when the job is gone (deleted or purged meanwhile).
      .expression((eb) => eb.selectFrom('jobs').select((e) => ['id', e.val(at.getTime()).as('published_at')]).where('id', '=', id))
      .onConflict((oc) => oc.column('job_id').doNothing())
      .execute();
  }

  override async findUnpublishedJobs(createdBefore: Date, limit: number): Promise<JobRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', JobStatus.Queued)
      .where('created_at', '<', createdBefore.getTime())
      .where((eb) => eb.not(eb.exists(eb.selectFrom('job_publications as p').select('p.job_id').whereRef('p.job_id', '=', 'jobs.id'))))
      .orderBy('created_at')
      .orderBy('id')
      .limit(Math.floor(limit))
      .execute();
    return rows.map(toRecord);
  }

  /** Output and event rows go with the job through ON DELETE CASCADE. */
  override async deleteJob(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }

  override async findJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  override async countOpenJobs(submittedBy: string): Promise<number> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('submitted_by', '=', submittedBy)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirstOrThrow();
    // PostgreSQL's count is a bigint, which pg hands over as a string.
    return Number(row.n);
  }

  override async findJobsByStatus(statuses: JobStatus[]): Promise<JobRecord[]> {
    if (statuses.length === 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', statuses)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  override async claimJob(id: string, runnerId: string, startedAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ status: JobStatus.Running, runner_id: runnerId, started_at: startedAt.getTime() })
      .where('id', '=', id)
      .where('status', '=', JobStatus.Queued)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * The fair pick: among queued jobs, one of the user with the fewest running jobs (so one
   * user's backlog never holds back another's job for longer than until the next free slot),
   * then `preferredId`, higher priority, older. One UPDATE over a subquery; PostgreSQL skips rows
   * another runner's claim has locked, SQLite runs one writer at a time. When the pick finds
   * nothing, the preferred job is claimed waiting for its lock: a gateway may hold it for a moment
   * right after publishing (confirmIdempotencyKey), and the message in hand may be its only one.
   */
  override async claimNextJob(runnerId: string, startedAt: Date, preferredId?: string): Promise<JobRecord | null> {
    const runningOfSubmitter = sql`(select count(*) from jobs as r where r.status = ${JobStatus.Running} and r.submitted_by = j.submitted_by)`;
    const pick = this.db
      .selectFrom('jobs as j')
      .select('j.id')
      .where('j.status', '=', JobStatus.Queued)
      .orderBy(runningOfSubmitter)
      .orderBy(sql`case when j.id = ${preferredId ?? ''} then 0 else 1 end`)
      .orderBy('j.priority', 'desc')
      .orderBy('j.created_at')
      .orderBy('j.id')
      .limit(1)
      // NO KEY UPDATE, the lock the claim's UPDATE takes: it skips rows other claims hold, never a
      // row merely key-shared by marking it published (job_publications' foreign key).
      .$if(this.dialect === 'postgres', (qb) => qb.forNoKeyUpdate().skipLocked());
    const claim = (target: typeof pick | string) =>
      this.db
        .updateTable('jobs')
        .set({ status: JobStatus.Running, runner_id: runnerId, started_at: startedAt.getTime() })
        .where('id', '=', target)
        .where('status', '=', JobStatus.Queued)
        .returningAll()
        .executeTakeFirst();
    let row = await claim(pick);
    // The pick skips a row locked for a moment (its idempotency key being confirmed): the message's
    // own job is then waited for. Still guarded by status: a job another runner took is not claimed twice.
    if (!row && preferredId !== undefined && this.dialect === 'postgres') row = await claim(preferredId);
    return row ? toRecord(row) : null;
  }

  override async completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: outcome.status,
        reason: storableOrNull(outcome.reason),
        return_code: outcome.returnCode,
        finished_at: finishedAt.getTime(),
      })
      .where('id', '=', id)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * One UPDATE of the job row and one INSERT, in one transaction: the cost does not grow with the
   * output already stored. The job row's line count and "last line open" flag give the chunk its
   * line numbers (see placeChunk in output-lines.ts, which this does in SQL).
   */
  override async appendOutput(id: string, chunk: string): Promise<void> {
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
      const endLine = Number(job.output_lines);
      await trx
        .insertInto('job_output')
        .values({ job_id: id, chunk: text, start_line: endLine - newlines + closesLastLine, end_line: endLine })
        .execute();
    });
  }

  override async readOutput(id: string): Promise<string> {
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
  override async readOutputLines(id: string, from: number, to: number): Promise<OutputLines> {
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

  /** Counters come from the job row, advanced first in the transaction (see the class comment). */
  override async appendEvents(id: string, events: NewJobEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const job = await trx
        .updateTable('jobs')
        .set({ event_count: sql<number>`event_count + ${events.length}` })
        .where('id', '=', id)
        .returning('event_count')
        .executeTakeFirst();
      if (!job) throw new Error(`no job ${id}: events must belong to an existing job`);
      let counter = Number(job.event_count) - events.length;
      for (let at = 0; at < events.length; at += EVENT_INSERT_BATCH) {
        const rows = events.slice(at, at + EVENT_INSERT_BATCH).map((event) => ({
          job_id: id,
          counter: ++counter,
          type: event.type,
          host: storableOrNull(event.host),
          task: storableOrNull(event.task),
          // JSON escapes NUL as \u0000, so the text itself never holds one.
          data: JSON.stringify(event.data ?? {}),
          created_at: event.createdAt.getTime(),
        }));
        await trx.insertInto('job_events').values(rows).execute();
      }
    });
  }

  override async readEvents(id: string, query: EventQuery): Promise<JobEvent[]> {
    if (query.limit <= 0) return [];
    let select = this.db.selectFrom('job_events').selectAll().where('job_id', '=', id);
    if (query.after !== undefined) select = select.where('counter', '>', query.after);
    if (query.host !== undefined) select = select.where('host', '=', query.host);
    if (query.types !== undefined && query.types.length > 0) select = select.where('type', 'in', query.types);
    const rows = await select.orderBy('counter').limit(Math.floor(query.limit)).execute();
    return rows.map(toEvent);
  }

  override async summarize(id: string): Promise<HostSummary[]> {
    const stats = await this.db
      .selectFrom('job_events')
      .select('data')
      .where('job_id', '=', id)
      .where('type', '=', JobEventType.Stats)
      .orderBy('counter', 'desc')
      .limit(1)
      .executeTakeFirst();
    const fromStats = stats && summaryFromStats(JSON.parse(stats.data));
    if (fromStats) return fromStats;
    const rows = await this.db
      .selectFrom('job_events')
      .select(['host', 'type', 'data'])
      .where('job_id', '=', id)
      .where('type', 'in', HOST_RESULT_EVENTS)
      .orderBy('counter')
      .execute();
    return summaryFromHostEvents(rows);
  }

  override async listJobs(filter: JobListFilter, limit: number, cursor?: JobListCursor): Promise<JobRecord[]> {
    if (limit <= 0) return [];
    const rows = await jobListQuery(this.db, filter, limit, cursor).execute();
    return rows.map(toRecord);
  }

  /**
   * Two guarded UPDATEs: queued → canceled, else mark a running job. A claim racing the first one
   * either lands before it (then the job is running and gets marked) or finds the job canceled.
   */
  override async cancelJob(id: string, reason: string, at: Date): Promise<CancelResult> {
    const canceled = await this.db
      .updateTable('jobs')
      .set({ status: JobStatus.Canceled, reason: storableText(reason), finished_at: at.getTime() })
      .where('id', '=', id)
      .where('status', '=', JobStatus.Queued)
      .executeTakeFirst();
    if (canceled.numUpdatedRows > 0n) return 'canceled';

    // The first request's time is kept: a repeated cancel asks for nothing new.
    const marked = await this.db
      .updateTable('jobs')
      // The reason is kept with the request: the runner acts on what the store says, never on a bus message alone.
      .set({
        cancel_requested_at: sql<number>`coalesce(cancel_requested_at, ${at.getTime()})`,
        cancel_reason: sql<string>`coalesce(cancel_reason, ${storableText(reason)})`,
      })
      .where('id', '=', id)
      .where('status', '=', JobStatus.Running)
      .executeTakeFirst();
    if (marked.numUpdatedRows > 0n) return 'requested';

    // Neither queued nor running: a job never goes back to either, so it is final or gone.
    const job = await this.db.selectFrom('jobs').select('status').where('id', '=', id).executeTakeFirst();
    return job ? 'already-final' : 'not-found';
  }

  override async findCancelRequests(runnerId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', JobStatus.Running)
      .where('runner_id', '=', runnerId)
      .where('cancel_requested_at', 'is not', null)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  }

  override async findJobsRunningOn(runnerId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', JobStatus.Running)
      .where('runner_id', '=', runnerId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  }

  override async recordHeartbeat(runnerId: string, at: Date): Promise<void> {
    await this.db
      .insertInto('runners')
      .values({ runner_id: runnerId, heartbeat_at: at.getTime(), started_at: at.getTime() })
      .onConflict((oc) => oc.column('runner_id').doUpdateSet({ heartbeat_at: at.getTime() }))
      .execute();
  }

  override async removeRunner(runnerId: string): Promise<void> {
    await this.db.deleteFrom('runners').where('runner_id', '=', runnerId).execute();
  }

  /**
   * One guarded UPDATE ... RETURNING: a job its runner completes meanwhile is no longer running and
   * is left alone. A runner must record its first heartbeat before it claims anything.
   */
  override async failJobsOfLostRunners(staleBefore: Date, reason: string, at: Date): Promise<string[]> {
    const rows = await this.db
      .updateTable('jobs')
      .set({
        status: JobStatus.Error,
        reason: sql<string>`replace(${storableText(reason)}, '{runner}', coalesce(runner_id, 'unknown'))`,
        finished_at: at.getTime(),
      })
      .where('status', '=', JobStatus.Running)
      .where((eb) =>
        eb.or([
          eb('runner_id', 'is', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('runners')
                .select('runners.runner_id')
                .whereRef('runners.runner_id', '=', 'jobs.runner_id')
                .where('runners.heartbeat_at', '>=', staleBefore.getTime()),
            ),
          ),
        ]),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  override async forgetSilentRunners(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('runners')
      .where('heartbeat_at', '<', before.getTime())
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('jobs').select('jobs.id').whereRef('jobs.runner_id', '=', 'runners.runner_id').where('jobs.status', '=', JobStatus.Running))),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** In batches of PURGE_BATCH jobs, each its own statement (and transaction). */
  override async purgeFinishedBefore(before: Date): Promise<number> {
    const purged = await this.purgeInBatches(before);
    // The periodic chore SQLite asks long-lived connections for; PostgreSQL's autovacuum does it there.
    if (this.dialect === 'sqlite' && purged > 0) await sql`PRAGMA optimize`.execute(this.db);
    return purged;
  }

  private async purgeInBatches(before: Date): Promise<number> {
    let purged = 0;
    for (;;) {
      const batch = await this.db
        .selectFrom('jobs')
        .select('id')
        .where('status', 'in', FINAL_STATUSES)
        .where('created_at', '<', before.getTime())
        .limit(PURGE_BATCH)
        .execute();
      if (batch.length === 0) return purged;
      const result = await this.db
        .deleteFrom('jobs')
        .where('id', 'in', batch.map((r) => r.id))
        .where('status', 'in', FINAL_STATUSES)
        .executeTakeFirst();
      purged += Number(result.numDeletedRows);
      if (batch.length < PURGE_BATCH) return purged;
    }
  }

  /** Releases the connection(s); safe to call more than once. */
  override close(): Promise<void> {
    this.closed ??= this.db.destroy();
    return this.closed;
  }

  override async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }
}
