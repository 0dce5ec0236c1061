import { Kysely, Migration } from 'kysely';
import { addMissingColumns } from './migration-columns';

/**
 * The job a relaunch repeats (POST /api/v1/jobs/{id}/relaunch); null for every other job. No
 * foreign key: retention may purge the original first, and the id stays the relaunch's history.
 */
export function relaunchOf(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [{ name: 'relaunch_of', type: 'text' }]);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('relaunch_of').execute();
    },
  };
}
