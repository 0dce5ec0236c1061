import { JobStatus } from '@flansible/contracts';
import { Kysely, sql } from 'kysely';
import { StoreDatabase } from '../store-database';
import { storableText } from './job-rows';

/** Runner heartbeats (runners), and the jobs of runners that stopped beating. */
export class RunnerRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  async recordHeartbeat(runnerId: string, at: Date): Promise<void> {
    await this.db
      .insertInto('runners')
      .values({ runner_id: runnerId, heartbeat_at: at.getTime(), started_at: at.getTime() })
      .onConflict((oc) => oc.column('runner_id').doUpdateSet({ heartbeat_at: at.getTime() }))
      .execute();
  }

  async remove(runnerId: string): Promise<void> {
    await this.db.deleteFrom('runners').where('runner_id', '=', runnerId).execute();
  }

  /**
   * One guarded UPDATE ... RETURNING: a job its runner completes meanwhile is no longer running and
   * is left alone. A runner must record its first heartbeat before it claims anything.
   */
  async failJobsOfLostRunners(staleBefore: Date, reason: string, at: Date): Promise<string[]> {
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

  async forgetSilent(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('runners')
      .where('heartbeat_at', '<', before.getTime())
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('jobs').select('jobs.id').whereRef('jobs.runner_id', '=', 'runners.runner_id').where('jobs.status', '=', JobStatus.Running))),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
