import { Kysely, Migration } from 'kysely';

/** The reason a cancel request names, kept with it: a runner acts on the store's request, not on a bus message. */
export function cancelReason(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').addColumn('cancel_reason', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('jobs').dropColumn('cancel_reason').execute();
    },
  };
}
