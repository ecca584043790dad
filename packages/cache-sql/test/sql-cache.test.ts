import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CacheConnectionError, InvalidCacheBackendError, NonNumericValueError, createCache, registerCacheScheme, v8Serializer } from '@cachette/cache-core';
import { startFaultProxy } from '@cachette/test-servers';
import { SqlCache, type SqlCacheParams } from '../src/index';
import { DATABASE_TARGETS, type TestDatabase } from './databases';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const target of DATABASE_TARGETS) {
  describe.skipIf(target.skip)(`SqlCache on ${target.name}${target.skip ? ` (skipped: ${target.skip})` : ''}`, () => {
    let database: TestDatabase;
    let tableNumber = 0;
    let table: string;
    const caches: SqlCache[] = [];

    beforeAll(async () => {
      database = await target.start();
    });
    afterAll(() => database?.stop());
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
    });

    /** A cache on a table of its own test (created on first use), on a pool or client of its own. */
    function newCache(params: SqlCacheParams = {}): SqlCache {
      const cache = new SqlCache({ location: database.url, ...params, options: { table, poolSize: 2, ...params.options } });
      caches.push(cache);
      return cache;
    }

    function countingCache(params: SqlCacheParams = {}): { cache: SqlCache; statements: { count: number } } {
      const { client, statements } = database.countingClient();
      const cache = newCache({ ...params, location: undefined, options: { ...params.options, client } });
      return { cache, statements };
    }

    async function statementsOf(statements: { count: number }, operation: () => Promise<unknown>): Promise<number> {
      const before = statements.count;
      await operation();
      return statements.count - before;
    }

    // Each test gets a table of its own, so no test sees another's rows.
    const freshTable = (): string => {
      table = `cache test ${++tableNumber}`;
      return table;
    };

    it('two concurrent adds of one key, from separate connections: exactly one wins, also over an expired row', async () => {
      freshTable();
      const [first, second] = [newCache(), newCache()];
      await first.set('warm-up', 1);
      for (let round = 0; round < 15; round++) {
        if (round % 3 === 0) await first.set(`key${round}`, 'expired', -1);
        const results = await Promise.all([first.add(`key${round}`, 'first'), second.add(`key${round}`, 'second')]);
        expect(results.filter(Boolean).length).toBe(1);
        expect(await first.get(`key${round}`)).toBe(results[0] ? 'first' : 'second');
      }
    });

    it("keeps Django's table layout: the columns, the index on expires, base64 values and int: counters", async () => {
      freshTable();
      const cache = newCache();
      await cache.set('text', 'hello');
      await cache.set('counter', 41);
      const { rows } = await database.raw(`SELECT ${quoteColumn('value')} AS v FROM ${quoteTable(table)} ORDER BY ${quoteColumn('cache_key')}`);
      expect(rows.map((row) => row.v)).toEqual(['int:41', v8Serializer.serialize('hello').toString('base64')]);
      expect(await columnsOf(table)).toEqual(['cache_key', 'value', 'expires']);
      expect(await database.exists('index', `${table}_expires`)).toBe(true);
    });

    it('one statement for getMany, deleteMany, has, touch and incr; two for getMany when a row expired', async () => {
      freshTable();
      const { cache, statements } = countingCache();
      await cache.setMany({ a: 1, b: 2, c: 3 });
      expect(await statementsOf(statements, () => cache.getMany(['a', 'b', 'c', 'missing']))).toBe(1);
      expect(await statementsOf(statements, () => cache.hasKey('a'))).toBe(1);
      expect(await statementsOf(statements, () => cache.touch('a', 100))).toBe(1);
      expect(await statementsOf(statements, () => cache.incr('a', 2))).toBe(1);
      expect(await statementsOf(statements, () => cache.deleteMany(['a', 'b']))).toBe(1);
      await cache.set('old', 1, -1);
      expect(await statementsOf(statements, () => cache.getMany(['c', 'old']))).toBe(2);
      expect(await statementsOf(statements, () => cache.getMany(['c', 'old']))).toBe(1);
    });

    it("ttl is one SELECT of the expiry; timeout null, stored as Django's far-future expiry, reads as null", async () => {
      freshTable();
      const { cache, statements } = countingCache();
      await cache.set('ten', 1, 10);
      await cache.set('never', 1, null);
      await cache.set('expired', 1, -1);
      const answers: Array<number | null | undefined> = [];
      expect(await statementsOf(statements, async () => answers.push(await cache.ttl('ten')))).toBe(1);
      expect(answers[0]).toBeGreaterThan(9);
      expect(answers[0]).toBeLessThanOrEqual(10);
      expect(await cache.ttl('never')).toBeNull();
      expect(await cache.ttl('expired')).toBeUndefined();
      expect(await cache.ttl('missing')).toBeUndefined();
      // A row Django wrote for timeout None: datetime.max, to the microsecond.
      const djangoMax = `9999-12-31 23:59:59.999999${target.name === 'postgres' ? '+00' : ''}`;
      const columns = ['cache_key', 'value', 'expires'].map(quoteColumn).join(', ');
      await database.raw(`INSERT INTO ${quoteTable(table)} (${columns}) VALUES (?, ?, ?)`, [':1:django', 'int:1', djangoMax]);
      expect(await cache.ttl('django')).toBeNull();
    });

    // SQLite stores the text it is given; the servers convert dates by the connection's settings.
    if (target.name !== 'sqlite') it('ttl reads an expiry the same whatever time zone the application client uses', async () => {
      freshTable();
      const client =
        target.name === 'postgres'
          ? new pg.Pool({ connectionString: database.url, max: 1, options: '-c TimeZone=Pacific/Kiritimati' })
          : mysql.createPool({ uri: database.url, connectionLimit: 1, timezone: '+14:00' });
      try {
        const cache = newCache({ location: undefined, options: { client } });
        await cache.set('ten', 1, 10);
        const left = await cache.ttl('ten');
        expect(left).toBeGreaterThan(9);
        expect(left).toBeLessThanOrEqual(10);
      } finally {
        await client.end();
      }
    });

    it('storeStats counts every row of the table in one statement, the expired ones apart, then maxEntries, table and dialect', async () => {
      freshTable();
      const { cache, statements } = countingCache({ options: { maxEntries: 1000 } });
      expect(await cache.storeStats()).toEqual({ entries: 0, expired_entries: 0, maxEntries: 1000, table, dialect: target.name === 'mariadb' ? 'mysql' : target.name });
      await cache.setMany(Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`key${index}`, index])));
      await newCache({ keyPrefix: 'other' }).set('expired', 'x', -1);
      let stats: Record<string, string | number> = {};
      expect(await statementsOf(statements, async () => (stats = await cache.storeStats()))).toBe(1);
      expect(stats).toMatchObject({ entries: 13, expired_entries: 1 });
      expect(Object.keys(stats)).toEqual(['entries', 'expired_entries', 'maxEntries', 'table', 'dialect']);
      expect(Object.values(stats).map((value) => typeof value)).toEqual(['number', 'number', 'number', 'string', 'string']);
      await cache.deleteMany(['key0', 'key1']);
      // Reading the expired row deletes it.
      expect(await newCache({ keyPrefix: 'other' }).get('expired')).toBeUndefined();
      expect(await cache.storeStats()).toMatchObject({ entries: 10, expired_entries: 0 });
    });

    // PostgreSQL counts and writes in one statement; the others count, then write (MySQL's add: delete expired, insert).
    const [countedSet, countedAdd] = { sqlite: [2, 2], postgres: [1, 1], mariadb: [2, 3] }[target.name];

    it(`set and setMany (any number of keys) are ${countedSet} statement(s) with Django's culling check; add ${countedAdd}`, async () => {
      freshTable();
      const { cache, statements } = countingCache();
      await cache.hasKey('creates the table');
      expect(await statementsOf(statements, () => cache.set('a', 1))).toBe(countedSet);
      expect(await statementsOf(statements, () => cache.set('a', 2))).toBe(countedSet);
      expect(await statementsOf(statements, () => cache.setMany({ a: 3, b: 4, c: 5 }))).toBe(countedSet);
      expect(await cache.getMany(['a', 'b', 'c'])).toEqual(new Map([['a', 3], ['b', 4], ['c', 5]]));
      expect(await statementsOf(statements, () => cache.add('d', 6))).toBe(countedAdd);
      expect(await statementsOf(statements, () => cache.add('d', 7))).toBe(countedAdd);
      expect(await cache.get('d')).toBe(6);
    });

    it('a write that finds the table full culls first, then writes', async () => {
      freshTable();
      const cache = newCache({ options: { maxEntries: 2, cullFrequency: 2 } });
      await cache.setMany({ k1: 1, k2: 2, k3: 3 });
      // 3 rows > 2: 3 // 2 = 1 smallest key goes before the write.
      await cache.set('k4', 4);
      expect([...(await cache.getMany(['k1', 'k2', 'k3', 'k4'])).keys()]).toEqual(['k2', 'k3', 'k4']);
      // 3 rows > 2 again: k2 goes, then k0 is stored already expired.
      await cache.set('k0', 0, -1);
      // k0 (expired), k3, k4: 3 rows > 2, and removing the expired row is enough.
      expect(await cache.add('k5', 5)).toBe(true);
      expect([...(await cache.getMany(['k0', 'k2', 'k3', 'k4', 'k5'])).keys()]).toEqual(['k3', 'k4', 'k5']);
    });

    it('removes expired rows when reading them', async () => {
      freshTable();
      const cache = newCache();
      await cache.set('short', 'value', 0.3);
      await cache.set('long', 'value', 100);
      await sleep(600);
      expect(await cache.get('short')).toBe(undefined);
      const { rows } = await database.raw(`SELECT ${quoteColumn('cache_key')} AS k FROM ${quoteTable(table)}`);
      expect(rows.map((row) => row.k)).toEqual([':1:long']);
    });

    it("culls as Django's database backend: expired rows first, then the smallest keys", async () => {
      freshTable();
      const cache = newCache({ options: { maxEntries: 4, cullFrequency: 2 } });
      await cache.set('x1', 'soon gone', 0.3);
      for (const key of ['x2', 'x3', 'x4', 'x5']) await cache.set(key, 'value');
      await sleep(600);
      // 5 rows > 4: the expired x1 goes, which is enough.
      await cache.set('x6', 'value');
      expect([...(await cache.getMany(['x1', 'x2', 'x3', 'x4', 'x5', 'x6'])).keys()]).toEqual(['x2', 'x3', 'x4', 'x5', 'x6']);
      // 5 live rows > 4: 5 // 2 = 2 smallest keys go.
      await cache.set('x7', 'value');
      expect([...(await cache.getMany(['x2', 'x3', 'x4', 'x5', 'x6', 'x7'])).keys()]).toEqual(['x4', 'x5', 'x6', 'x7']);
    });

    it('incr stops at the safe integer range with NonNumericValueError and keeps the value', async () => {
      freshTable();
      const cache = newCache();
      await cache.set('big', Number.MAX_SAFE_INTEGER - 1);
      expect(await cache.incr('big')).toBe(Number.MAX_SAFE_INTEGER);
      await expect(cache.incr('big')).rejects.toBeInstanceOf(NonNumericValueError);
      expect(await cache.get('big')).toBe(Number.MAX_SAFE_INTEGER);
      await cache.set('small', Number.MIN_SAFE_INTEGER);
      await expect(cache.decr('small')).rejects.toBeInstanceOf(NonNumericValueError);
    });

    it('keys are data: quotes and SQL in keys round-trip, case and length are kept apart', async () => {
      freshTable();
      const cache = newCache();
      const tricky = ["'; DROP TABLE x; --", 'Key', 'key', 'quote " and `tick`', '清 ünïcödé', 'a'.repeat(200) + 'x'.repeat(100), 'a'.repeat(200) + 'y'.repeat(100)];
      await cache.setMany(Object.fromEntries(tricky.map((key, index) => [key, index])));
      expect(await cache.getMany(tricky)).toEqual(new Map(tricky.map((key, index) => [key, index])));
      expect(await cache.incr(tricky[5]!)).toBe(6);
      expect(await cache.delete(tricky[6]!)).toBe(true);
      expect(await cache.hasKey(tricky[6]!)).toBe(false);
      expect(await cache.hasKey(tricky[5]!)).toBe(true);
    });

    it('close() releases the pool it opened and leaves an application client open', async () => {
      freshTable();
      const { cache } = countingCache();
      await cache.set('a', 1);
      await cache.close();
      const { rows } = await database.raw(`SELECT COUNT(*) AS n FROM ${quoteTable(table)}`);
      expect(Number(rows[0]!.n)).toBe(1);
      // The same application client still works for a new cache.
      const own = newCache();
      expect(await own.get('a')).toBe(1);
      await own.close();
      expect(await own.get('a')).toBe(1);
    });

    // MySQL reports rows found or rows changed depending on a client flag; both must give the same answers.
    if (target.name === 'mariadb') it('an application mysql2 pool without CLIENT_FOUND_ROWS gives the same answers', async () => {
      freshTable();
      const pool = mysql.createPool({ uri: database.url, connectionLimit: 1, flags: ['-FOUND_ROWS'] });
      try {
        const cache = newCache({ location: undefined, options: { client: pool } });
        expect(await cache.add('key', 1, null)).toBe(true);
        expect(await cache.add('key', 1, null)).toBe(false);
        expect(await cache.touch('key', null)).toBe(true);
        expect(await cache.touch('key', null)).toBe(true);
        expect(await cache.incr('key', 0)).toBe(1);
        await cache.set('key', 1, null);
        expect(await cache.get('key')).toBe(1);
      } finally {
        await pool.end();
      }
    });

    // SQLite has no connections to count.
    if (target.name !== 'sqlite') it('close() ends the connections of the pool the cache opened', async () => {
      freshTable();
      // The cache's connections are told apart from the tests' own: by application name, or by user.
      const name = 'cachette_close_test';
      const url = new URL(database.url);
      let connectionsSql: string;
      if (target.name === 'postgres') {
        url.searchParams.set('application_name', name);
        connectionsSql = 'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = ?';
      } else {
        await database.raw(`CREATE USER IF NOT EXISTS '${name}'@'%'`);
        await database.raw(`GRANT ALL ON ${url.pathname.slice(1)}.* TO '${name}'@'%'`);
        url.username = name;
        connectionsSql = 'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?';
      }
      const connections = async (): Promise<number> => Number((await database.raw(connectionsSql, [name])).rows[0]!.n);
      const cache = newCache({ location: url.toString(), options: { table, poolSize: 3 } });
      await Promise.all(Array.from({ length: 6 }, (_, index) => cache.set(`key${index}`, index)));
      expect(await connections()).toBeGreaterThan(0);
      await cache.close();
      // The server notices closed connections a moment later.
      for (let waited = 0; (await connections()) > 0 && waited < 5000; waited += 100) await sleep(100);
      expect(await connections()).toBe(0);
    });

    it('with createTable false, a missing table rejects until it is created', async () => {
      freshTable();
      const cache = newCache({ options: { createTable: false } });
      await expect(cache.get('a')).rejects.toThrow();
      await newCache().set('a', 1);
      expect(await cache.get('a')).toBe(1);
    });

    // SQLite has no server to stall.
    if (target.name !== 'sqlite') it('a stalled server makes operations fail after queryTimeout instead of hanging, then recovers', async () => {
      freshTable();
      const url = new URL(database.url);
      const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
      try {
        url.port = String(proxy.port);
        const cache = newCache({ location: url.toString(), options: { queryTimeout: 1, connectTimeout: 2 } });
        await cache.set('a', 1);
        proxy.pause();
        const started = Date.now();
        await expect(cache.get('a')).rejects.toBeInstanceOf(CacheConnectionError);
        expect(Date.now() - started).toBeLessThan(20_000);
        proxy.resume();
        expect(await cache.get('a')).toBe(1);
      } finally {
        await proxy.close();
      }
    });

    function quoteTable(name: string): string {
      return target.name === 'mariadb' ? `\`${name}\`` : `"${name}"`;
    }

    function quoteColumn(name: string): string {
      return quoteTable(name);
    }

    async function columnsOf(name: string): Promise<string[]> {
      if (target.name === 'sqlite') return (await database.raw(`SELECT name FROM pragma_table_info(?)`, [name])).rows.map((row) => String(row.name));
      const schema = target.name === 'postgres' ? 'current_schema()' : 'DATABASE()';
      const { rows } = await database.raw(
        `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ? ORDER BY ordinal_position`,
        [name],
      );
      return rows.map((row) => String(row.name));
    }
  });
}

describe('SqlCache: configuration and failures', () => {
  it('is created from a URL through the registry, with its options and the common parameters', async () => {
    // In an application the sqlite: scheme loads this package by name; the test hands the class over.
    registerCacheScheme('sqlite', SqlCache);
    const cache = (await createCache('sqlite://:memory:?table=from_url&max_entries=5&cull_frequency=0&timeout=60&key_prefix=p')) as SqlCache;
    expect(cache).toBeInstanceOf(SqlCache);
    expect([cache.table, cache.defaultTimeout, cache.keyPrefix, cache.dialect]).toEqual(['from_url', 60, 'p', 'sqlite']);
    for (let index = 0; index < 7; index++) await cache.set(`key${index}`, index);
    // cullFrequency 0 empties the table once it holds more than 5 rows.
    expect((await cache.getMany(Array.from({ length: 7 }, (_, index) => `key${index}`))).size).toBe(1);
    await cache.close();
  });

  it('reads cache options from a URL query and leaves the others to the database', () => {
    const params = SqlCache.paramsFromUrl(
      { url: '', scheme: 'postgres', body: 'user:pw@db.example:5432/app', query: new URLSearchParams('table=my_cache&max_entries=50&sslmode=require&serializer=pickle&time_zone=Europe%2FParis') },
      { location: 'ignored', options: { table: 'my_cache', maxEntries: 50, sslmode: 'require', serializer: 'pickle', timeZone: 'Europe/Paris' } },
    );
    expect(params.location).toBe('postgres://user:pw@db.example:5432/app?sslmode=require');
    expect(params.options).toEqual({ table: 'my_cache', maxEntries: 50, serializer: 'pickle', timeZone: 'Europe/Paris' });
  });

  it('rejects table names it could not quote safely, and locations that are not database URLs', () => {
    expect(() => new SqlCache({ location: 'sqlite://:memory:', options: { table: 'x"; DROP TABLE y; --' } })).toThrow(InvalidCacheBackendError);
    expect(() => new SqlCache({ location: 'sqlite://:memory:', options: { table: 't'.repeat(56) } })).toThrow(/1–55 letters/);
    expect(new SqlCache({ location: 'sqlite://:memory:', options: { table: 't'.repeat(55) } }).table).toBe('t'.repeat(55));
    expect(() => new SqlCache({ location: 'redis://localhost' })).toThrow(/sqlite:\/\/, postgres:\/\/ or mysql:\/\//);
    expect(() => new SqlCache({})).toThrow(/database URL/);
    expect(() => new SqlCache({ location: 'sqlite://:memory:', options: { poolSize: 0 } })).toThrow(/poolSize/);
  });

  it.each([
    ['postgres', 'postgres://postgres:secret@127.0.0.1:1/db'],
    ['mysql', 'mysql://root:secret@127.0.0.1:1/db'],
    ['sqlite', 'sqlite:///nonexistent-directory/cachette/cache.db'],
  ])('an unreachable %s database rejects with CacheConnectionError naming it, without the password', async (_, url) => {
    const cache = new SqlCache({ location: url, options: { connectTimeout: 2 } });
    const error = (await cache.get('a').catch((caught: unknown) => caught)) as CacheConnectionError;
    expect(error).toBeInstanceOf(CacheConnectionError);
    await expect(cache.storeStats()).rejects.toBeInstanceOf(CacheConnectionError);
    expect(error.message).toMatch(/Cannot reach the .* database of cache table 'cachette_cache'/);
    expect(error.message).not.toContain('secret');
    expect(error.cause).toBeInstanceOf(Error);
    await cache.close();
  });

  it('an in-memory SQLite URL gives each cache its own database', async () => {
    const [first, second] = [new SqlCache({ location: 'sqlite://:memory:' }), new SqlCache({ location: 'sqlite://:memory:' })];
    await first.set('a', 1);
    expect(await second.get('a')).toBe(undefined);
    await Promise.all([first.close(), second.close()]);
  });
});
