import Database from 'better-sqlite3';
import { Generated, Kysely, sql, SqliteDialect } from 'kysely';
import { StatementCachingSqlite } from './sqlite-statement-cache';

describe('StatementCachingSqlite', () => {
  let raw: Database.Database;
  let cache: StatementCachingSqlite;

  beforeEach(() => {
    raw = new Database(':memory:');
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    cache = new StatementCachingSqlite(raw, 3);
  });
  afterEach(() => {
    if (raw.open) cache.close();
  });

  it('prepares each distinct statement once and hands the same one out again', () => {
    const prepare = jest.spyOn(raw, 'prepare');
    const insert = cache.prepare('INSERT INTO t (v) VALUES (?)');
    insert.run('a');
    expect(cache.prepare('INSERT INTO t (v) VALUES (?)')).toBe(insert);
    cache.prepare('INSERT INTO t (v) VALUES (?)').run('b');
    expect(prepare).toHaveBeenCalledTimes(1);
    expect(cache.prepare('SELECT v FROM t ORDER BY id').all()).toEqual([{ v: 'a' }, { v: 'b' }]);
  });

  it('gives a caller a fresh statement while the cached one is still iterating', () => {
    raw.exec("INSERT INTO t (v) VALUES ('a'), ('b')");
    const select = 'SELECT v FROM t ORDER BY id';
    const iterating = cache.prepare(select).iterate() as IterableIterator<{ v: string }>;
    expect(iterating.next().value).toEqual({ v: 'a' });
    const other = cache.prepare(select);
    expect(other.busy).toBe(false);
    expect(other.all()).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(iterating.next().value).toEqual({ v: 'b' });
    iterating.return?.();
  });

  it('keeps at most its limit, dropping the least recently used', () => {
    const prepare = jest.spyOn(raw, 'prepare');
    const texts = ['SELECT 1', 'SELECT 2', 'SELECT 3'];
    for (const text of texts) cache.prepare(text);
    cache.prepare('SELECT 1'); // used again: SELECT 2 is now the oldest
    cache.prepare('SELECT 4');
    prepare.mockClear();
    cache.prepare('SELECT 1');
    cache.prepare('SELECT 3');
    expect(prepare).not.toHaveBeenCalled();
    cache.prepare('SELECT 2');
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it('serves Kysely: reads, writes, RETURNING, transactions and streamed queries', async () => {
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({ dialect: new SqliteDialect({ database: cache }) });
    await db.insertInto('t').values([{ v: 'a' }, { v: 'b' }]).execute();
    const inserted = await db.insertInto('t').values({ v: 'c' }).returning('id').executeTakeFirstOrThrow();
    expect(inserted.id).toBe(3);
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('t').set({ v: 'B' }).where('id', '=', 2).execute();
    });
    const streamed: string[] = [];
    // Kysely holds its one SQLite connection while a stream reads, so nothing else runs meanwhile.
    for await (const row of db.selectFrom('t').select('v').orderBy('id').stream()) streamed.push(row.v);
    expect(streamed).toEqual(['a', 'B', 'c']);
    expect((await db.selectFrom('t').select('v').orderBy('id').execute()).map((r) => r.v)).toEqual(['a', 'B', 'c']);
    expect((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(db)).rows).toEqual([{ n: 3 }]);
    await db.destroy();
    expect(raw.open).toBe(false);
  });
});
