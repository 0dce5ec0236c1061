import { Kysely, Migration } from 'kysely';
import { addMissingColumns } from './migration-columns';

/** The submitting HTTP request's id (X-Request-Id), so runner log lines of the job carry it. */
export function requestId(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [{ name: 'request_id', type: 'text' }]);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('request_id').execute();
    },
  };
}
