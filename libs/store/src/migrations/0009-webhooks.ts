import { JobStatus, WebhookEventType } from '@flansible/contracts';
import { ColumnDefinitionBuilder, Kysely, Migration, RawBuilder, sql } from 'kysely';
import { StoreDialect } from '../store-database';

const OPEN = sql.join([sql.lit(JobStatus.Queued), sql.lit(JobStatus.Running)]);

/** The deliveries one row's status change owes: a row per subscriber of `event`, due at once. */
function deliveriesOf(event: WebhookEventType, at: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`INSERT INTO webhook_deliveries (subscription_id, job_id, event_type, occurred_at, state, next_attempt_at)
    SELECT e.subscription_id, NEW.id, e.event_type, ${at}, 'pending', ${at}
    FROM webhook_subscription_events e WHERE e.event_type = ${sql.lit(event)}
    ON CONFLICT (subscription_id, job_id, event_type) DO NOTHING`;
}

const STARTED = deliveriesOf(WebhookEventType.JobStarted, sql`NEW.started_at`);
const FINISHED = deliveriesOf(WebhookEventType.JobFinished, sql`coalesce(NEW.finished_at, NEW.started_at, NEW.created_at)`);
const IS_START = sql`OLD.status = ${sql.lit(JobStatus.Queued)} AND NEW.status = ${sql.lit(JobStatus.Running)}`;
const IS_END = sql`OLD.status IN (${OPEN}) AND NEW.status NOT IN (${OPEN})`;

/**
 * Triggers on jobs that write the deliveries of every start (queued → running) and every end
 * (queued or running → terminal) inside the statement that changes the status. So an event
 * exists exactly when its status change committed, whatever made it (a runner's claim or outcome,
 * a gateway's cancel of a queued job, any runner's lost-runner sweep, code yet to be written) and
 * whichever process dies afterwards; and no status change needs a transaction of its own (two
 * SQLite connections of one process interleaving transactions block each other).
 */
function statusTriggers(dialect: StoreDialect): RawBuilder<unknown>[] {
  if (dialect === 'sqlite') {
    return [
      sql`CREATE TRIGGER IF NOT EXISTS jobs_webhook_started AFTER UPDATE OF status ON jobs WHEN ${IS_START} BEGIN ${STARTED}; END`,
      sql`CREATE TRIGGER IF NOT EXISTS jobs_webhook_finished AFTER UPDATE OF status ON jobs WHEN ${IS_END} BEGIN ${FINISHED}; END`,
    ];
  }
  return [
    sql`CREATE OR REPLACE FUNCTION flansible_job_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${IS_START} THEN ${STARTED};
        ELSIF ${IS_END} THEN ${FINISHED};
        END IF;
        RETURN NULL;
      END $$`,
    sql`DROP TRIGGER IF EXISTS jobs_webhook_deliveries ON jobs`,
    sql`CREATE TRIGGER jobs_webhook_deliveries AFTER UPDATE OF status ON jobs FOR EACH ROW EXECUTE FUNCTION flansible_job_webhook_deliveries()`,
  ];
}

/**
 * Webhook subscriptions and their deliveries.
 *
 * - `webhook_subscriptions` (+ `webhook_subscription_events`, one row per event type asked for, so
 *   that the fan-out finds the subscribers of an event off the primary key).
 * - `webhook_deliveries`: one row per (subscription, job, event), written by triggers on jobs in
 *   the statement that changes the job's status (statusTriggers), so no event is lost whichever
 *   process changes it. A dispatcher claims due rows by pushing next_attempt_at forward (the
 *   lease) under its own lease_token.
 *   No foreign key to the subscription: the fan-out runs inside the runner's status change, and a
 *   subscription deleted at that very moment must not make the job's outcome fail to record; a
 *   delivery whose subscription is gone is dropped by the dispatcher. Deleted with its job
 *   (retention) through the cascade.
 * - `webhook_attempts`: what each attempt got (status code, error, time), for the deliveries API.
 */
export function webhooks(dialect: StoreDialect): Migration {
  // An auto-assigned, increasing id, as in job_output: the rowid in SQLite, an identity column in PostgreSQL.
  const idType = dialect === 'sqlite' ? 'integer' : 'bigint';
  const serialId = (c: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? c.primaryKey() : c.primaryKey().generatedByDefaultAsIdentity());
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('webhook_subscriptions')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_subscriptions_owner_idx').ifNotExists().on('webhook_subscriptions').columns(['owner', 'created_at']).execute();

      await db.schema
        .createTable('webhook_subscription_events')
        .ifNotExists()
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('webhook_subscriptions.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('webhook_subscription_events_pk', ['event_type', 'subscription_id'])
        .execute();
      await db.schema
        .createIndex('webhook_subscription_events_subscription_idx')
        .ifNotExists()
        .on('webhook_subscription_events')
        .column('subscription_id')
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .ifNotExists()
        .addColumn('id', idType, serialId)
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_token', 'text')
        .addColumn('payload', 'text')
        .execute();
      // One delivery per subscription and event of a job, whatever retries the status change.
      await db.schema
        .createIndex('webhook_deliveries_event_uq')
        .ifNotExists()
        .unique()
        .on('webhook_deliveries')
        .columns(['subscription_id', 'job_id', 'event_type'])
        .execute();
      // The dispatcher's claim: pending rows in next_attempt_at order; delivered ones stay out of it.
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .ifNotExists()
        .on('webhook_deliveries')
        .columns(['next_attempt_at', 'id'])
        .where(sql.ref('state'), '=', sql.lit('pending'))
        .execute();
      // The cascade from jobs (retention).
      await db.schema.createIndex('webhook_deliveries_job_idx').ifNotExists().on('webhook_deliveries').column('job_id').execute();

      await db.schema
        .createTable('webhook_attempts')
        .ifNotExists()
        .addColumn('id', idType, serialId)
        .addColumn('delivery_id', idType, (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('attempted_at', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .execute();
      // The deliveries API, newest first per subscription; and the cascade from deliveries.
      await db.schema.createIndex('webhook_attempts_subscription_idx').ifNotExists().on('webhook_attempts').columns(['subscription_id', 'id']).execute();
      await db.schema.createIndex('webhook_attempts_delivery_idx').ifNotExists().on('webhook_attempts').column('delivery_id').execute();

      for (const statement of statusTriggers(dialect)) await statement.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      const drops =
        dialect === 'sqlite'
          ? [sql`DROP TRIGGER IF EXISTS jobs_webhook_started`, sql`DROP TRIGGER IF EXISTS jobs_webhook_finished`]
          : [sql`DROP TRIGGER IF EXISTS jobs_webhook_deliveries ON jobs`, sql`DROP FUNCTION IF EXISTS flansible_job_webhook_deliveries()`];
      for (const statement of drops) await statement.execute(db);
      for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_subscription_events', 'webhook_subscriptions']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
