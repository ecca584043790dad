import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCacheBackendError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { createCacheTableCommand } from '../src/command';
import { SqlCache } from '../src/index';
import { DATABASE_TARGETS, type TestDatabase } from './databases';

/**
 * The security rules: keys and values only ever travel as statement parameters, and a table name
 * is checked against a strict pattern before any SQL is built, by object, URL or CLI alike.
 */

for (const scheme of ['sqlite', 'postgres', 'mysql']) registerCacheScheme(scheme, SqlCache);

/** Each would drop the table `victim` if it reached the SQL text unquoted, for one dialect or another. */
const PAYLOADS = [
  "'; DROP TABLE victim; --",
  '"; DROP TABLE victim; --',
  "\\'; DROP TABLE victim; -- ",
  '`; DROP TABLE victim; #',
  "' OR '1'='1",
  '?, $1, :name, %s',
];

const BAD_TABLE_NAMES: unknown[] = [
  'victim"; DROP TABLE victim; --',
  'victim`; DROP TABLE victim; #',
  "victim'; DROP TABLE victim; --",
  'public.victim',
  'victim\0',
  'victim\n',
  '1victim',
  '',
  't'.repeat(56),
  42,
];

for (const target of DATABASE_TARGETS) {
  describe.skipIf(target.skip)(`SQL injection on ${target.name}${target.skip ? ` (skipped: ${target.skip})` : ''}`, () => {
    let database: TestDatabase;
    const caches: SqlCache[] = [];
    beforeAll(async () => {
      database = await target.start();
      await database.raw('CREATE TABLE victim (id integer)');
      await database.raw('INSERT INTO victim (id) VALUES (1)');
    });
    afterEach(async () => {
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
      expect(await database.raw('SELECT id FROM victim')).toMatchObject({ rows: [{ id: 1 }] });
    });
    afterAll(() => database?.stop());

    const newCache = (table: string): SqlCache => {
      const cache = new SqlCache({ location: database.url, options: { table, poolSize: 2 } });
      caches.push(cache);
      return cache;
    };

    it.each(PAYLOADS)('keys and values holding %j are stored verbatim by every operation', async (payload) => {
      const table = `payload_${PAYLOADS.indexOf(payload)}`;
      const cache = newCache(table);
      await cache.set(payload, payload);
      expect(await cache.add(`add ${payload}`, payload)).toBe(true);
      expect(await cache.setMany({ [`many ${payload}`]: payload, [`n ${payload}`]: 1 })).toEqual([]);
      expect(await cache.incr(`n ${payload}`)).toBe(2);
      expect(await cache.touch(payload, 600)).toBe(true);
      expect(await cache.hasKey(payload)).toBe(true);
      expect(await cache.get(payload)).toBe(payload);
      expect(await cache.getMany([payload, `add ${payload}`, `many ${payload}`])).toEqual(
        new Map([payload, `add ${payload}`, `many ${payload}`].map((key) => [key, payload])),
      );
      const { rows } = await database.raw(`SELECT cache_key FROM ${table} WHERE cache_key = ?`, [`:1:${payload}`]);
      expect(rows).toEqual([{ cache_key: `:1:${payload}` }]);
      expect(await cache.delete(payload)).toBe(true);
      await cache.deleteMany([`add ${payload}`, `many ${payload}`, `n ${payload}`]);
      expect(await cache.getMany([payload, `add ${payload}`])).toEqual(new Map());
    });

    it.each(BAD_TABLE_NAMES)('the table name %j is refused with InvalidCacheBackendError, by object and by URL, before any SQL runs', async (table) => {
      expect(() => new SqlCache({ location: database.url, options: { table: table as string } })).toThrow(InvalidCacheBackendError);
      if (typeof table !== 'string') return;
      const separator = database.url.includes('?') ? '&' : '?';
      await expect(createCache(`${database.url}${separator}table=${encodeURIComponent(table)}`)).rejects.toBeInstanceOf(InvalidCacheBackendError);
    });

    it('createcachetable refuses a bad table name from --table or from the URL, creating nothing', async () => {
      const table = 'made"; DROP TABLE victim; --';
      const separator = database.url.includes('?') ? '&' : '?';
      for (const argv of [
        ['--url', database.url, '--table', table],
        ['--url', `${database.url}${separator}table=${encodeURIComponent(table)}`],
      ]) {
        const error: string[] = [];
        const code = await createCacheTableCommand(argv, { out: () => {}, error: (line) => error.push(line) });
        expect(code).toBe(1);
        expect(error.join('\n')).toMatch(/Cache option table must be/);
      }
      expect(await database.exists('table', table)).toBe(false);
      expect(await database.exists('table', 'made')).toBe(false);
    });
  });
}
