import { inventoryOf, JobKind, JobOutcome, JobSpec, JobStatus } from '@flansible/contracts';
import { Kysely, Selectable } from 'kysely';
import { JobRecord, JobStore, NewJob } from './job-store';
import { JobsTable, StoreDatabase, StoreDialect } from './store-database';
import { migrateToLatest } from './store-migrations';

/** States a job may still leave; everything else is terminal and final. */
const OPEN_STATUSES: JobStatus[] = [JobStatus.Queued, JobStatus.Running];

/**
 * PostgreSQL rejects NUL in text, and a command's output can contain one. Replace it in both
 * dialects so the two stores hold the same thing.
 */
function storableText(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
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
  };
}

/**
 * The JobStore over Kysely: the same SQL for SQLite and PostgreSQL; only the Kysely dialect given
 * to the constructor differs (see createJobStore). Every state change is one guarded UPDATE, so the
 * database, not the caller, decides races between runners.
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

  override async createJob(job: NewJob): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
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
      })
      .execute();
  }

  /** Output rows go with the job through ON DELETE CASCADE. */
  override async deleteJob(id: string): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }

  override async findJob(id: string): Promise<JobRecord | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
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

  override async completeJob(id: string, outcome: JobOutcome, finishedAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: outcome.status,
        reason: outcome.reason === null ? null : storableText(outcome.reason),
        return_code: outcome.returnCode,
        finished_at: finishedAt.getTime(),
      })
      .where('id', '=', id)
      .where('status', 'in', OPEN_STATUSES)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** One INSERT per batch: the cost does not grow with the output already stored. */
  override async appendOutput(id: string, chunk: string): Promise<void> {
    if (chunk === '') return;
    await this.db.insertInto('job_output').values({ job_id: id, chunk: storableText(chunk) }).execute();
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

  /** Releases the connection(s); safe to call more than once. */
  override close(): Promise<void> {
    this.closed ??= this.db.destroy();
    return this.closed;
  }
}
