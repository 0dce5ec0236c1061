import { Kysely, Migration } from 'kysely';
import { addMissingColumns } from './migration-columns';

/**
 * What an idempotency key was first sent with, so a different request under the same key is
 * refused, and whether that first submission is still under way (a retry then waits or gets 409).
 */
export function idempotencyFingerprint(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await addMissingColumns(db, 'jobs', [
        { name: 'idempotency_fingerprint', type: 'text' },
        { name: 'idempotency_pending_until', type: 'bigint' },
      ]);
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const column of ['idempotency_pending_until', 'idempotency_fingerprint']) await db.schema.alterTable('jobs').dropColumn(column).execute();
    },
  };
}
