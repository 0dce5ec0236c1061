import { inventoryOf, JobOutcome, JobStatus } from '@flansible/contracts';
import { Kysely, sql } from 'kysely';
import { CancelResult, CreatedJob, JobRecord, NewJob } from '../job-records';
import { StoreDatabase, StoreDialect } from '../store-database';
import { OPEN_STATUSES, storableOrNull, storableText, toDate, toRecord } from './job-rows';

/**
 * The jobs themselves: creation (with idempotency keys), lookups, claims, outcomes and cancel
 * requests. Every state change is one guarded UPDATE, so the database, not the caller, decides
 * races between runners.
 */
export class JobRepository {
  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {}

  async create(job: NewJob): Promise<CreatedJob> {
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
      relaunch_of: job.relaunchOf ?? null,
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

  async confirmIdempotencyKey(id: string): Promise<void> {
    await this.db.updateTable('jobs').set({ idempotency_pending_until: null }).where('id', '=', id).execute();
  }

  /** Output and event rows go with the job through ON DELETE CASCADE. */
  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }

  async find(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async countOpen(submittedBy: string): Promise<number> {
    const row = await this.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('submitted_by', '=', submittedBy)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirstOrThrow();
    // PostgreSQL's count is a bigint, which pg hands over as a string.
    return Number(row.n);
  }

  async findByStatus(statuses: JobStatus[]): Promise<JobRecord[]> {
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

  async claim(id: string, runnerId: string, startedAt: Date): Promise<boolean> {
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
  async claimNext(runnerId: string, startedAt: Date, preferredId?: string): Promise<JobRecord | null> {
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

  async complete(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: outcome.status,
        reason: storableOrNull(outcome.reason),
        return_code: outcome.returnCode,
        launch_path: outcome.launchPath ?? null,
        finished_at: finishedAt.getTime(),
      })
      .where('id', '=', id)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Two guarded UPDATEs: queued → canceled, else mark a running job. A claim racing the first one
   * either lands before it (then the job is running and gets marked) or finds the job canceled.
   */
  async cancel(id: string, reason: string, at: Date): Promise<CancelResult> {
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

  /** Running jobs of this runner, oldest first; only those with a cancel request when asked. */
  async findRunningOn(runnerId: string, withCancelRequest = false): Promise<string[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', JobStatus.Running)
      .where('runner_id', '=', runnerId)
      .$if(withCancelRequest, (qb) => qb.where('cancel_requested_at', 'is not', null))
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  }
}
