import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ONE_WAY_SAMPLES, djangoCacheSkipReason, fromTyped, startDjangoCachePeer, toTyped } from '@cachette/test-servers';
import type { DjangoCacheConfig, DjangoCachePeer, TypedValue } from '@cachette/test-servers';
import { SqlCache, createCacheTable, type SqlCacheOptions } from '../src/index';
import { DATABASE_TARGETS, type TestDatabase } from './databases';

/**
 * One table shared by a real Django 3.2 `DatabaseCache` and a Cachette `SqlCache` with
 * `serializer: 'pickle'`: each reads, increments, expires, touches, clears and culls the
 * other's rows, with Django's USE_TZ on and off.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEY_PREFIX = 'site';
const TABLE = 'django interop';
// Django's default TIME_ZONE, which a site with USE_TZ = False keeps its clock in: a real site's
// settings module sets the process's TZ to it (settings.configure(), which the peer uses, does not).
const DJANGO_TIME_ZONE = 'America/Chicago';

/** Django's DATABASES entry for a test database. */
function djangoDatabase(database: TestDatabase): Record<string, unknown> {
  if (database.name === 'sqlite') return { ENGINE: 'django.db.backends.sqlite3', NAME: database.url.slice('sqlite://'.length) };
  const url = new URL(database.url);
  return {
    ENGINE: 'django.db.backends.postgresql',
    NAME: url.pathname.slice(1),
    USER: decodeURIComponent(url.username),
    PASSWORD: decodeURIComponent(url.password),
    HOST: url.hostname,
    PORT: url.port,
  };
}

// Django's PostgreSQL backend needs psycopg2 (Debian's python3-psycopg2).
const TARGETS = DATABASE_TARGETS.filter((target) => target.name !== 'mariadb').map((target) => ({
  ...target,
  skip: target.skip ?? djangoCacheSkipReason(target.name === 'postgres' ? ['psycopg2'] : []),
}));

for (const target of TARGETS) {
  describe.skipIf(target.skip)(`Django's DatabaseCache and SqlCache share a ${target.name} table${target.skip ? ` (skipped: ${target.skip})` : ''}`, () => {
    let database: TestDatabase;
    const peers: DjangoCachePeer[] = [];
    const caches: SqlCache[] = [];

    beforeAll(async () => {
      database = await target.start();
    });
    afterAll(async () => {
      await Promise.all(peers.splice(0).map((peer) => peer.close()));
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
      await database?.stop();
    });

    function django(table: string, extra: Partial<DjangoCacheConfig> = {}): Promise<DjangoCachePeer> {
      const config = { BACKEND: 'django.core.cache.backends.db.DatabaseCache', LOCATION: table, KEY_PREFIX, USE_TZ: true, DATABASES: { default: djangoDatabase(database) }, ...extra };
      const env = config.USE_TZ ? {} : { TZ: DJANGO_TIME_ZONE };
      return startDjangoCachePeer(config, { env }).then((peer) => (peers.push(peer), peer));
    }

    function cachette(table: string, options: SqlCacheOptions = {}): SqlCache {
      const cache = new SqlCache({ location: database.url, keyPrefix: KEY_PREFIX, options: { table, serializer: 'pickle', poolSize: 2, ...options } });
      caches.push(cache);
      return cache;
    }

    const quoted = (name: string): string => `"${name}"`;

    /** The `value` and `expires` columns of a row, as the database holds them (expires as text). */
    async function rawRow(table: string, madeKey: string): Promise<{ value: string; expires: string }> {
      const expires = target.name === 'postgres' ? `to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')` : 'expires';
      const { rows } = await database.raw(`SELECT value, ${expires} AS expires FROM ${quoted(table)} WHERE cache_key = ?`, [madeKey]);
      return { value: String(rows[0]?.value), expires: String(rows[0]?.expires) };
    }

    async function rowCount(table: string): Promise<number> {
      const { rows } = await database.raw(`SELECT COUNT(*) AS count FROM ${quoted(table)}`);
      return Number(rows[0]?.count);
    }

    for (const useTz of [true, false]) {
      describe(`USE_TZ = ${useTz ? 'True' : 'False'}`, () => {
        const table = `${TABLE} tz ${useTz}`;
        let peer: DjangoCachePeer;
        let cache: SqlCache;
        let samples: Record<string, TypedValue>;

        beforeAll(async () => {
          peer = await django(table, { USE_TZ: useTz });
          await peer.createCacheTable();
          cache = cachette(table, { createTable: false, timeZone: useTz ? 'UTC' : DJANGO_TIME_ZONE });
          samples = await peer.samples();
        });
        beforeEach(() => peer.clear());

        it('Cachette reads every sample Django wrote, exactly', async () => {
          const names = await peer.writeSamples();
          expect(names.sort()).toEqual(Object.keys(samples).sort());
          const found = await cache.getMany(names.map((name) => `sample:${name}`));
          for (const name of names) expect([name, found.get(`sample:${name}`)]).toStrictEqual([name, fromTyped(samples[name]!)]);
        });

        it('Django reads the samples Cachette wrote, all but the ones JavaScript has no type for', async () => {
          await cache.setMany(Object.fromEntries(Object.entries(samples).map(([name, typed]) => [`sample:${name}`, fromTyped(typed)])));
          const results = await peer.readSamples();
          const unequal = Object.keys(results).filter((name) => !results[name]!.equal);
          expect(unequal.sort()).toEqual(Object.keys(ONE_WAY_SAMPLES).sort());
          for (const name of Object.keys(samples)) expect([name, results[name]!.missing, results[name]!.error]).toEqual([name, undefined, undefined]);
        });

        it("writes rows in Django's form: base64 pickles, integers too, and whole-second expiries", async () => {
          await peer.set('django', toTyped(7), 100);
          await cache.set('cachette', 7, 100);
          await peer.set('django forever', toTyped('x'), null);
          await cache.set('cachette forever', 'x', null);
          const [fromDjango, fromCachette] = [await rawRow(table, `${KEY_PREFIX}:1:django`), await rawRow(table, `${KEY_PREFIX}:1:cachette`)];
          // Django pickles with protocol 5, Cachette with 4: different bytes, the same value.
          for (const row of [fromDjango, fromCachette]) expect(row.value).toMatch(/^[A-Za-z0-9+/]+=*$/);
          expect(fromTyped((await peer.get('cachette'))!)).toBe(7);
          const wholeSecond = target.name === 'postgres' ? /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000$/ : /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;
          expect([fromDjango.expires, fromCachette.expires]).toEqual([expect.stringMatching(wholeSecond), expect.stringMatching(wholeSecond)]);
          expect(Math.abs(Date.parse(`${fromDjango.expires.slice(0, 19)}Z`) - Date.parse(`${fromCachette.expires.slice(0, 19)}Z`))).toBeLessThanOrEqual(2000);
          const never = target.name === 'postgres' ? '9999-12-31 23:59:59.000000' : '9999-12-31 23:59:59';
          expect((await rawRow(table, `${KEY_PREFIX}:1:cachette forever`)).expires).toBe(never);
          if (useTz) expect((await rawRow(table, `${KEY_PREFIX}:1:django forever`)).expires).toBe(never);
          expect(await cache.ttl('django forever')).toBe(null);
          expect(await cache.ttl('django')).toBeGreaterThan(97);
        });

        it("each side increments the other's counter", async () => {
          await peer.set('django counter', toTyped(10));
          expect(await cache.incr('django counter')).toBe(11);
          expect(await peer.incr('django counter', 5)).toBe(16);
          expect(await cache.decr('django counter', 20)).toBe(-4);
          await cache.set('cachette counter', 1);
          expect(await peer.incr('cachette counter')).toBe(2);
          expect(await cache.incr('cachette counter', 40)).toBe(42);
          expect(await peer.decr('cachette counter', 2)).toBe(40);
          expect(fromTyped((await peer.get('django counter'))!)).toBe(-4);
          expect(await cache.get('cachette counter')).toBe(40);
        });

        it('concurrent increments from Cachette processes lose nothing, with Django incrementing between them', async () => {
          await peer.set('shared', toTyped(0), null);
          const other = cachette(table, { createTable: false, timeZone: useTz ? 'UTC' : DJANGO_TIME_ZONE });
          const incrementBoth = () => Array.from({ length: 15 }, () => [cache.incr('shared'), other.incr('shared')]).flat();
          await Promise.all(incrementBoth());
          expect(fromTyped((await peer.get('shared'))!)).toBe(30);
          await Promise.all([...incrementBoth(), peer.incr('shared', 1000)]);
          // Django's incr is a get then a set. Its set gives up silently on a lock conflict (Django
          // swallows DatabaseError), and otherwise overwrites the Cachette increments that land
          // between its get and its set. Cachette's compare-and-set retries instead, so it never
          // overwrites Django's thousand: the sum is all 60, or Django's write plus at least 30.
          const afterDjango = fromTyped((await peer.get('shared'))!) as number;
          const possible = afterDjango === 60 || (afterDjango >= 1030 && afterDjango <= 1060);
          expect(possible, `the counter reads ${afterDjango}`).toBe(true);
        });

        it('an entry expired by one side is a miss for the other', async () => {
          await peer.set('django short', toTyped('soon gone'), 1);
          await cache.set('cachette short', 'soon gone', 1);
          await peer.set('django long', toTyped('stays'), 60);
          await cache.set('cachette long', 'stays', 60);
          await sleep(2100);
          expect(await cache.getMany(['django short', 'django long'])).toEqual(new Map([['django long', 'stays']]));
          expect(await cache.hasKey('django short')).toBe(false);
          expect(await peer.get('cachette short')).toBe(undefined);
          expect(await peer.hasKey('cachette short')).toBe(false);
          expect(await peer.get('cachette long')).toEqual(toTyped('stays'));
        });

        it('a touch by one side is seen by the other', async () => {
          // Two seconds: Django's rows keep whole seconds, so a one-second row can end at the next
          // second, before the other side's touch (Cachette's touches only a live row).
          await cache.set('touched by django', 'kept', 2);
          await peer.set('touched by cachette', toTyped('kept'), 2);
          expect(await peer.touch('touched by django', 60)).toBe(true);
          expect(await cache.touch('touched by cachette', 60)).toBe(true);
          await sleep(2100);
          expect(await cache.get('touched by django')).toBe('kept');
          expect(await peer.get('touched by cachette')).toEqual(toTyped('kept'));
          expect(await cache.ttl('touched by django')).toBeGreaterThan(55);
          expect(await peer.touch('touched by cachette', null)).toBe(true);
          expect(await cache.ttl('touched by cachette')).toBe(null);
        });

        it('clear by one side empties the table for both', async () => {
          await peer.set('a', toTyped(1));
          await cache.set('b', 2);
          await cache.clear();
          expect([await peer.get('a'), await peer.get('b')]).toEqual([undefined, undefined]);
          await cache.set('c', 3);
          await peer.clear();
          expect(await cache.get('c', 'missing')).toBe('missing');
        });

        it("a row that is not a base64 pickle is a SerializationError, and stays for Django's eyes", async () => {
          await cache.set('corrupt', 'fine');
          await database.raw(`UPDATE ${quoted(table)} SET value = ? WHERE cache_key = ?`, ['not a pickle', `${KEY_PREFIX}:1:corrupt`]);
          await expect(cache.get('corrupt')).rejects.toMatchObject({ name: 'SerializationError' });
          await expect(cache.incr('corrupt')).rejects.toMatchObject({ name: 'SerializationError' });
          expect((await rawRow(table, `${KEY_PREFIX}:1:corrupt`)).value).toBe('not a pickle');
        });
      });
    }

    it("Django culls Cachette's rows and Cachette culls Django's: expired rows first, then the smallest keys", async () => {
      const table = 'culled';
      const peer = await django(table, { OPTIONS: { MAX_ENTRIES: 5 } });
      const cache = cachette(table, { maxEntries: 5 });
      await cache.setMany({ x1: 'expired', x2: 'expired' }, -10);
      await cache.setMany({ a3: 3, a4: 4, a5: 5, a6: 6 });
      await peer.set('z1', toTyped('culls'));
      expect(await rowCount(table)).toBe(5);
      await cache.set('a7', 7);
      await peer.set('z2', toTyped('culls'));
      expect([...(await cache.getMany(['a3', 'a4', 'a5', 'a6', 'a7', 'z1', 'z2'])).keys()].sort()).toEqual(['a5', 'a6', 'a7', 'z1', 'z2']);

      await cache.clear();
      await peer.setMany({ x1: toTyped('expired'), x2: toTyped('expired') }, -10);
      await peer.setMany({ b3: toTyped(3), b4: toTyped(4), b5: toTyped(5), b6: toTyped(6) });
      await cache.set('z1', 'culls');
      expect(await rowCount(table)).toBe(5);
      await peer.set('b7', toTyped(7));
      await cache.set('z2', 'culls');
      const found = await peer.getMany(['b3', 'b4', 'b5', 'b6', 'b7', 'z1', 'z2']);
      expect([...found.keys()].sort()).toEqual(['b5', 'b6', 'b7', 'z1', 'z2']);
    });

    it("the table Cachette's createCacheTable makes serves Django, and Django's createcachetable's serves Cachette", async () => {
      const params = { location: database.url, keyPrefix: KEY_PREFIX, options: { table: 'made by cachette' } };
      expect((await createCacheTable(params)).map(({ outcome }) => outcome)).toEqual(['created']);
      const onCachettes = await django('made by cachette');
      await onCachettes.set('k', toTyped('on the table Cachette made'));
      expect(await cachette('made by cachette', { createTable: false }).get('k')).toBe('on the table Cachette made');

      const onDjangos = await django('made by django');
      await onDjangos.createCacheTable();
      expect((await createCacheTable({ ...params, options: { table: 'made by django' } })).map(({ outcome }) => outcome)).toEqual(['exists']);
      const cache = cachette('made by django', { createTable: false });
      await cache.set('k', 'on the table Django made');
      expect(fromTyped((await onDjangos.get('k'))!)).toBe('on the table Django made');
      // Cachette's own createTable (IF NOT EXISTS) leaves Django's table and index as they are.
      await cachette('made by django').set('k2', 2);
      expect(fromTyped((await onDjangos.get('k2'))!)).toBe(2);
      expect(await database.exists('index', 'made by django_expires')).toBe(true);
    });
  });
}
