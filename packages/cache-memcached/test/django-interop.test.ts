import { SerializationError } from '@cachette/cache-core';
import {
  ONE_WAY_SAMPLES,
  djangoCacheSkipReason,
  fromTyped,
  serverSkipReason,
  startDjangoCachePeer,
  startMemcached,
  toTyped,
  type DjangoCachePeer,
  type TestServer,
  type TypedValue,
} from '@cachette/test-servers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { MemcachedCache, PythonFlags, type DjangoClient } from '../src/index';

/**
 * One real memcached shared by a real Django 3.2 (PyMemcacheCache, then PyLibMCCache) and
 * Cachette with `serializer: 'pickle'`: each side reads what the other writes.
 */

const PREFIX = 'shared';

/**
 * The Python type Django reads for each sample Cachette cannot write back exactly
 * (`ONE_WAY_SAMPLES` says why: JS has no tuple, frozenset, Decimal, date, naive datetime,
 * microseconds or float-typed whole number).
 */
const ONE_WAY_TYPES: Record<string, string> = {
  tuple: 'list',
  frozenset: 'set',
  decimal: 'str',
  datetime_naive: 'datetime.datetime',
  date: 'datetime.datetime',
  datetime_utc: 'datetime.datetime',
  list: 'list',
};

/** pylibmc writes bool as the int 1 or 0, and reads it back as that int (Django's PyLibMCCache does too). */
const PYLIBMC_BOOLEANS: Record<string, number> = { true: 1, false: 0 };

interface Target {
  name: string;
  backend: string;
  client: DjangoClient;
  extraModules: string[];
}

const TARGETS: Target[] = [
  { name: 'PyMemcacheCache', backend: 'django.core.cache.backends.memcached.PyMemcacheCache', client: 'pymemcache', extraModules: [] },
  { name: 'PyLibMCCache', backend: 'django.core.cache.backends.memcached.PyLibMCCache', client: 'pylibmc', extraModules: ['pylibmc'] },
];

const memcachedSkip = await serverSkipReason('memcached');

/** The JS value Cachette should read for Django's sample `name`. */
function expectedRead(target: Target, name: string, typed: TypedValue): unknown {
  if (target.client === 'pylibmc' && name in PYLIBMC_BOOLEANS) return PYLIBMC_BOOLEANS[name];
  return fromTyped(typed);
}

for (const target of TARGETS) {
  const skip = memcachedSkip ?? djangoCacheSkipReason(target.extraModules);
  describe.skipIf(skip)(`memcached shared with Django's ${target.name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let memcached: TestServer;
    let django: DjangoCachePeer;
    let samples: Record<string, TypedValue>;
    const caches: MemcachedCache[] = [];
    const cachette = (protocol: 'text' | 'binary' = 'text'): MemcachedCache => {
      const cache = new MemcachedCache({
        location: memcached.url,
        keyPrefix: PREFIX,
        options: { serializer: 'pickle', djangoClient: target.client, protocol, operationTimeout: 5 },
      });
      caches.push(cache);
      return cache;
    };
    let cache: MemcachedCache;
    /** The samples Cachette can write back exactly. */
    const crossing = (): string[] => Object.keys(samples).filter((name) => !(name in ONE_WAY_SAMPLES));

    beforeAll(async () => {
      memcached = await startMemcached();
      django = await startDjangoCachePeer({ BACKEND: target.backend, LOCATION: memcached.url, KEY_PREFIX: PREFIX });
      samples = await django.samples();
      cache = cachette();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(caches.map((each) => each.close()));
      await django?.close();
      await memcached?.stop();
    });
    beforeEach(() => django.clear());

    it('Cachette reads every sample Django writes, as the pickle serializer maps Python types', async () => {
      const names = await django.writeSamples();
      expect(names.sort()).toEqual(Object.keys(samples).sort());
      for (const name of names) {
        expect([name, await cache.get(`sample:${name}`, 'missing')]).toEqual([name, expectedRead(target, name, samples[name]!)]);
      }
    });

    it('Django reads every sample Cachette writes, except the ones JS cannot express', async () => {
      const writable = crossing();
      for (const name of writable) await cache.set(`sample:${name}`, fromTyped(samples[name]!));
      const read = await django.readSamples({ names: writable });
      const verdicts = Object.fromEntries(writable.map((name) => [name, read[name]?.equal ?? false]));
      if (target.client === 'pylibmc') {
        for (const [name, number] of Object.entries(PYLIBMC_BOOLEANS)) {
          expect([name, read[name]?.type, read[name]?.value]).toEqual([name, 'int', toTyped(number)]);
          verdicts[name] = true;
        }
      }
      expect(verdicts).toEqual(Object.fromEntries(writable.map((name) => [name, true])));
    });

    it('the samples JS cannot express still cross, as the nearest Python type', async () => {
      for (const name of Object.keys(ONE_WAY_SAMPLES)) await cache.set(`sample:${name}`, fromTyped(samples[name]!));
      const read = await django.readSamples({ names: Object.keys(ONE_WAY_SAMPLES) });
      expect(Object.fromEntries(Object.entries(read).map(([name, result]) => [name, result.type]))).toEqual(ONE_WAY_TYPES);
    });

    it("stores each sample with Django's flags, and bytes, str and int byte for byte", async () => {
      const writable = crossing();
      await django.writeSamples({ names: writable, prefix: 'django:' });
      for (const name of writable) await cache.set(`cachette:${name}`, fromTyped(samples[name]!));
      for (const name of writable) {
        const [theirs, ours] = await Promise.all([django.rawGet(`django:${name}`), django.rawGet(`cachette:${name}`)]);
        expect([name, ours?.flags]).toEqual([name, theirs?.flags]);
        if (theirs?.flags !== PythonFlags.pickle) expect([name, ours?.bytes]).toEqual([name, theirs?.bytes]);
      }
    });

    it("each side increments the other's counter", async () => {
      await django.set('counter', toTyped(10));
      expect(await cache.incr('counter')).toBe(11);
      expect(await django.incr('counter')).toBe(12);
      expect(await cache.get('counter')).toBe(12);

      await cache.set('reverse', 10);
      expect(await django.incr('reverse')).toBe(11);
      expect(await cache.incr('reverse')).toBe(12);
      expect(fromTyped((await django.get('reverse'))!)).toBe(12);
    });

    it('decrements stop at 0 on both sides, and a counter memcached shrank reads the same on both', async () => {
      await cache.set('counter', 10);
      expect(await django.decr('counter')).toBe(9); // memcached keeps the length: "9 "
      expect(await cache.get('counter')).toBe(9);
      expect(await cache.decr('counter', 20)).toBe(0);
      expect(await django.decr('counter', 5)).toBe(0);
      expect(fromTyped((await django.get('counter'))!)).toBe(0);
      expect(await cache.incr('counter', 7)).toBe(7);
    });

    it('getMany and setMany across both sides', async () => {
      await django.setMany({ a: toTyped(1), b: toTyped('two'), c: toTyped([3, { four: 4 }]) });
      expect(await cache.getMany(['a', 'b', 'c', 'absent'])).toEqual(new Map<string, unknown>([['a', 1], ['b', 'two'], ['c', [3, { four: 4 }]]]));

      expect(await cache.setMany({ x: Buffer.from([0, 255]), y: new Set(['s']), z: null })).toEqual([]);
      const read = await django.getMany(['x', 'y', 'z', 'absent']);
      expect(new Map([...read].map(([name, typed]) => [name, fromTyped(typed)]))).toEqual(new Map<string, unknown>([['x', Buffer.from([0, 255])], ['y', new Set(['s'])], ['z', null]]));
    });

    it('a delete by one side is seen by the other', async () => {
      await cache.set('gone', 'soon');
      expect(await django.delete('gone')).toBe(true);
      expect(await cache.hasKey('gone')).toBe(false);

      await django.set('gone-too', toTyped({ a: 1 }));
      expect(await cache.delete('gone-too')).toBe(true);
      expect(await django.hasKey('gone-too')).toBe(false);
    });

    it("touch by one side sets the expiry of the other's key", async () => {
      // Two seconds, so that 'kept' is surely there to be touched: memcached's whole-second clock
      // ends a one-second entry at its next tick, which can come at once. Untouched, it would be
      // gone by 3.5 s, as 'dropped' is.
      await django.set('kept', toTyped('django'), 2);
      await cache.set('dropped', 'cachette', 60);
      expect(await cache.touch('kept', 60)).toBe(true);
      expect(await django.touch('dropped', 2)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(fromTyped((await django.get('kept'))!)).toBe('django');
      expect(await cache.get('kept')).toBe('django');
      expect(await cache.hasKey('dropped')).toBe(false);
      expect(await django.get('dropped')).toBe(undefined);
    });

    it('add on one side sees the key the other stored', async () => {
      await django.set('taken', toTyped(1));
      expect(await cache.add('taken', 2)).toBe(false);
      expect(await cache.add('free', [1, 'x'])).toBe(true);
      expect(await django.add('free', toTyped(3))).toBe(false);
      expect(fromTyped((await django.get('free'))!)).toEqual([1, 'x']);
    });

    it('a value pickle cannot hold rejects with SerializationError and the old value stays', async () => {
      await django.set('kept', toTyped('before'));
      for (const value of [() => 1, Symbol('s'), new (class Point {})(), /re/, new Float64Array(1)]) {
        await expect(cache.set('kept', value)).rejects.toBeInstanceOf(SerializationError);
      }
      expect(fromTyped((await django.get('kept'))!)).toBe('before');
    });

    it('the binary protocol reads and writes the same items', async () => {
      const binary = cachette('binary');
      const names = await django.writeSamples();
      for (const name of names) {
        expect([name, await binary.get(`sample:${name}`, 'missing')]).toEqual([name, expectedRead(target, name, samples[name]!)]);
      }
      await binary.setMany({ 'sample:dict': fromTyped(samples.dict!), 'sample:unicode': fromTyped(samples.unicode!), 'sample:huge_int': fromTyped(samples.huge_int!) });
      const read = await django.readSamples({ names: ['dict', 'unicode', 'huge_int'] });
      expect(Object.values(read).map((result) => result.equal)).toEqual([true, true, true]);
      await binary.set('counter', 41);
      expect(await django.incr('counter')).toBe(42);
      expect(await binary.incr('counter')).toBe(43);
    });
  });
}

describe.skipIf(memcachedSkip)(`memcached with serializer: 'pickle', on its own${memcachedSkip ? ` (skipped: ${memcachedSkip})` : ''}`, () => {
  let memcached: TestServer;
  let raw: MemcachedClient;
  let cache: MemcachedCache;
  beforeAll(async () => {
    memcached = await startMemcached();
    raw = new MemcachedClient(memcached.url);
    cache = new MemcachedCache({ location: memcached.url, keyPrefix: PREFIX, options: { serializer: 'pickle' } });
  });
  afterAll(async () => {
    await Promise.all([raw.close(), cache.close()]);
    await memcached.stop();
  });

  it("round-trips pickle's value domain through setMany and getMany; undefined comes back as null", async () => {
    const values: Array<[string, unknown]> = [
      ['bigint', 2n ** 70n],
      ['unsafe-integral-float', 2 ** 60],
      ['nan', Number.NaN],
      ['infinity', Number.NEGATIVE_INFINITY],
      ['negative-zero', -0],
      ['date', new Date('2024-02-29T12:34:56.789Z')],
      ['buffer', Buffer.from([0, 1, 254, 255])],
      ['map-with-int-keys', new Map<unknown, unknown>([[1, 'one'], ['two', 2]])],
      ['set', new Set([1, 'two', 3n ** 50n])],
      ['nested', { when: new Date(0), tags: new Set(['x']), rows: [{ id: 1, ok: true }], blob: Buffer.from('b') }],
    ];
    await cache.setMany(Object.fromEntries(values));
    const read = await cache.getMany(values.map(([name]) => name));
    for (const [name, value] of values) expect([name, read.get(name)]).toEqual([name, value]);
    expect(Object.is(read.get('negative-zero'), -0)).toBe(true);
    await cache.set('undefined', undefined);
    expect(await cache.get('undefined', 'default')).toBe(null); // None has one JS form: null
  });

  const unreadable: Array<[string, Buffer, number]> = [
    // A pickle of os.system: refused by name, never imported or called.
    ['a pickled global', Buffer.from('\x80\x02cos\nsystem\nq\x00.', 'latin1'), PythonFlags.pickle],
    ['a truncated pickle', Buffer.from([0x80, 0x04, 0x95]), PythonFlags.pickle],
    ['text that is not UTF-8', Buffer.from([0xff, 0xfe]), PythonFlags.text],
    ['an integer that is not decimal', Buffer.from('12abc'), PythonFlags.integer],
    ['compressed bytes that do not inflate', Buffer.from('not zlib'), PythonFlags.compressed | PythonFlags.pickle],
    ['flags no Python client writes', Buffer.from('1'), PythonFlags.pickle | PythonFlags.integer],
  ];
  for (const [label, bytes, flags] of unreadable) {
    it(`${label} rejects with SerializationError and stays stored`, async () => {
      await raw.set(`${PREFIX}:1:bad`, bytes, { flags });
      await expect(cache.get('bad')).rejects.toBeInstanceOf(SerializationError);
      await expect(cache.getMany(['bad'])).rejects.toBeInstanceOf(SerializationError);
      expect((await raw.get(`${PREFIX}:1:bad`))?.value).toEqual(bytes);
    });
  }
});
