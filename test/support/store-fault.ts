import { Deployment } from './deployment';

const TABLE = 'test_store_fault';

/**
 * A store fault an e2e test switches on and off: a trigger on the deployment's own database
 * (PostgreSQL or SQLite) makes every UPDATE that sets jobs.status to one of the refused values
 * fail, as a database briefly unable to commit would; the refused values sit in a flag table.
 */
export class StoreFault {
  constructor(private readonly deployment: Deployment) {}

  /** Creates the flag table and the trigger; call once the store is migrated (after boot). */
  async install(): Promise<void> {
    if (this.deployment.databaseUrl) {
      await this.deployment.storeSql(`
        CREATE TABLE IF NOT EXISTS ${TABLE} (status text PRIMARY KEY);
        CREATE OR REPLACE FUNCTION ${TABLE}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM ${TABLE} WHERE status = NEW.status) THEN
            RAISE EXCEPTION 'injected store fault: jobs.status may not become %', NEW.status;
          END IF;
          RETURN NEW;
        END $$;
        DROP TRIGGER IF EXISTS ${TABLE} ON jobs;
        CREATE TRIGGER ${TABLE} BEFORE UPDATE OF status ON jobs FOR EACH ROW EXECUTE FUNCTION ${TABLE}();`);
      return;
    }
    await this.deployment.storeSql(`
      CREATE TABLE IF NOT EXISTS ${TABLE} (status TEXT PRIMARY KEY);
      CREATE TRIGGER IF NOT EXISTS ${TABLE} BEFORE UPDATE OF status ON jobs
      WHEN EXISTS (SELECT 1 FROM ${TABLE} WHERE status = NEW.status)
      BEGIN SELECT RAISE(ABORT, 'injected store fault: jobs.status refused'); END;`);
  }

  /** From now on, setting jobs.status to any of these fails. */
  async refuse(statuses: readonly string[]): Promise<void> {
    for (const status of statuses) await this.deployment.storeSql(`INSERT INTO ${TABLE} (status) VALUES ($1)`, [status]);
  }

  /** The store works again. */
  async clear(): Promise<void> {
    await this.deployment.storeSql(`DELETE FROM ${TABLE} WHERE status IS NOT NULL`);
  }
}
