import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '@flansible/contracts';
import { Kysely, Selectable } from 'kysely';
import { StoreDatabase, WebhookSubscriptionsTable } from '../store-database';
import { NewWebhook, WebhookRecord } from '../webhook-records';

/** Webhook subscriptions and the event types each asked for. */
export class WebhookSubscriptionRepository {
  constructor(private readonly db: Kysely<StoreDatabase>) {}

  /**
   * The subscription and its event rows in one transaction. The owner's count is checked by the
   * INSERT itself; two creations racing past the last free place may both land (the limit guards
   * the store from one user's thousands, not from one extra).
   */
  async create(webhook: NewWebhook, maxPerOwner: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('webhook_subscriptions')
        .columns(['id', 'owner', 'url', 'secret', 'created_at'])
        .expression(
          trx
            .selectNoFrom((s) => [
              s.val(webhook.id).as('id'),
              s.val(webhook.owner).as('owner'),
              s.val(webhook.url).as('url'),
              s.val(webhook.secret).as('secret'),
              s.val(webhook.createdAt.getTime()).as('created_at'),
            ])
            .where((w) =>
              w(w.selectFrom('webhook_subscriptions').select((c) => c.fn.countAll().as('n')).where('owner', '=', webhook.owner), '<', maxPerOwner),
            ),
        )
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
      await trx
        .insertInto('webhook_subscription_events')
        .values(webhook.events.map((event_type) => ({ event_type, subscription_id: webhook.id })))
        .execute();
      return true;
    });
  }

  async find(id: string): Promise<WebhookRecord | undefined> {
    const row = await this.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && (await this.withEvents([row]))[0];
  }

  async list(owner?: string): Promise<WebhookRecord[]> {
    const rows = await this.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .$if(owner !== undefined, (qb) => qb.where('owner', '=', owner!))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return this.withEvents(rows);
  }

  /** Its deliveries here (they have no foreign key to it, see migration 0009); its event rows and the deliveries' attempts through cascades. */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
      const result = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  private async withEvents(rows: Selectable<WebhookSubscriptionsTable>[]): Promise<WebhookRecord[]> {
    if (rows.length === 0) return [];
    const events = await this.db
      .selectFrom('webhook_subscription_events')
      .select(['subscription_id', 'event_type'])
      .where(
        'subscription_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    // In the one order the API lists event types in, whatever order the rows come back in.
    const order = (type: string) => WEBHOOK_EVENT_TYPES.indexOf(type as WebhookEventType);
    events.sort((a, b) => order(a.event_type) - order(b.event_type));
    return rows.map((row) => ({
      id: row.id,
      owner: row.owner,
      url: row.url,
      secret: row.secret,
      events: events.filter((e) => e.subscription_id === row.id).map((e) => e.event_type as WebhookEventType),
      createdAt: new Date(Number(row.created_at)),
    }));
  }
}
