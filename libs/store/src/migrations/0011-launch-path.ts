import { Kysely, Migration } from 'kysely';
import { addMissingColumns } from './migration-columns';

/** How the job's Ansible started (`warm` or `cold`, see the warm runner); null until it finished, and for older jobs. */
export function launchPath(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [{ name: 'launch_path', type: 'text' }]);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('launch_path').execute();
    },
  };
}
