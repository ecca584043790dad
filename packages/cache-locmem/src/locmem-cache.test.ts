import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CacheKeyWarning,
  InvalidCacheKey,
  KeyNotFoundError,
  NonNumericValueError,
  SerializationError,
  caches,
  closeCaches,
  commonParamsFromUrl,
  configureCaches,
  parseCacheUrl,
  resetCacheKeyWarnings,
} from '@cachette/cache-core';
import { LocMemCache } from './index';

// Each test gets its own location so shared stores never leak between tests.
let locationCounter = 0;
function freshLocation(): string {
  return `locmem-test-${++locationCounter}`;
}

function newCache(options: object = {}, params: object = {}): LocMemCache {
  return new LocMemCache({ location: freshLocation(), options, ...params });
}

const FAKE_START_MS = 1_700_000_000_000;

/** A cache whose clock the test moves (timers are real again after each test). */
function cacheOnFakeClock(): LocMemCache {
  vi.useFakeTimers({ now: FAKE_START_MS });
  return newCache();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LocMemCache (Django LocMemCacheTests)', () => {
  it('keeps caches with different locations apart', async () => {
    const first = newCache();
    const second = newCache();
    await first.set('value', 42);
    expect(await first.get('value')).toBe(42);
    expect(await second.get('value')).toBeUndefined();
  });

  it('shares one store between instances with the same location', async () => {
    const location = freshLocation();
    const writer = new LocMemCache({ location });
    const reader = new LocMemCache({ location });
    await writer.set('shared', 'yes');
    expect(await reader.get('shared')).toBe('yes');
    await reader.clear();
    expect(await writer.get('shared')).toBeUndefined();
  });

  it('shares the unnamed store between instances without a location', async () => {
    const writer = new LocMemCache();
    const reader = new LocMemCache({});
    await writer.set('unnamed-location-key', 1);
    expect(await reader.get('unnamed-location-key')).toBe(1);
    await writer.delete('unnamed-location-key');
  });

  it('keeps the expiry across incr and decr', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('counter', 1, 10);
    expect(await cache.incr('counter')).toBe(2);
    expect(await cache.decr('counter', 5)).toBe(-3);
    vi.advanceTimersByTime(9_000);
    expect(await cache.get('counter')).toBe(-3);
    vi.advanceTimersByTime(1_000);
    expect(await cache.get('counter')).toBeUndefined();
  });

  async function fillNine(): Promise<LocMemCache> {
    const cache = newCache({ maxEntries: 9 });
    for (let key = 0; key < 9; key++) await cache.set(String(key), key, null);
    return cache;
  }

  async function present(cache: LocMemCache): Promise<number[]> {
    const found: number[] = [];
    for (let key = 0; key < 10; key++) if (await cache.hasKey(String(key))) found.push(key);
    return found;
  }

  it('culls the least recently read entries (test_lru_get)', async () => {
    const cache = await fillNine();
    for (let key = 0; key < 6; key++) expect(await cache.get(String(key))).toBe(key);
    await cache.set('9', 9, null);
    expect(await present(cache)).toEqual([0, 1, 2, 3, 4, 5, 9]);
  });

  it('culls the least recently written entries (test_lru_set)', async () => {
    const cache = await fillNine();
    for (let key = 3; key < 9; key++) await cache.set(String(key), key, null);
    await cache.set('9', 9, null);
    expect(await present(cache)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('culls the least recently incremented entries (test_lru_incr)', async () => {
    const cache = await fillNine();
    for (let key = 0; key < 6; key++) expect(await cache.incr(String(key))).toBe(key + 1);
    await cache.set('9', 9, null);
    expect(await present(cache)).toEqual([0, 1, 2, 3, 4, 5, 9]);
  });
});

describe('LocMemCache getAwaitable', () => {
  it('answers without a Promise, with a copy, marking the entry used and dropping an expired one', async () => {
    const cache = new LocMemCache({ location: freshLocation(), options: { maxEntries: 3, cullFrequency: 3 } });
    await cache.set('tree', { list: [1, 2] });
    const read = cache.getAwaitable<{ list: number[] }>('tree');
    expect(read).not.toBeInstanceOf(Promise);
    read!.list.push(3);
    expect(cache.getAwaitable('tree')).toEqual({ list: [1, 2] });
    expect(cache.getAwaitable('missing', 'default')).toBe('default');
    await cache.set('b', 2);
    await cache.set('c', 3);
    cache.getAwaitable('tree');
    await cache.set('d', 4); // culls the least recently used: b, not tree
    expect(cache.getAwaitable('tree')).toEqual({ list: [1, 2] });
    expect(cache.getAwaitable('b')).toBeUndefined();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await cache.set('short', 'x', 1);
      vi.setSystemTime(Date.now() + 2000);
      expect(cache.getAwaitable('short', 'gone')).toBe('gone');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('LocMemCache culling', () => {
  it('removes count // cullFrequency entries once it holds maxEntries, even when overwriting', async () => {
    const cache = newCache({ maxEntries: 10, cullFrequency: 4 });
    for (let key = 0; key < 10; key++) await cache.set(`k${key}`, key);
    await cache.set('k9', 'again'); // full: culls 10 // 4 = 2 (k0, k1) before storing
    expect(await cache.hasKey('k0')).toBe(false);
    expect(await cache.hasKey('k1')).toBe(false);
    expect(await cache.hasKey('k2')).toBe(true);
    expect(await cache.get('k9')).toBe('again');
  });

  it('clears everything when cullFrequency is 0', async () => {
    const cache = newCache({ maxEntries: 5, cullFrequency: 0 });
    for (let key = 0; key < 5; key++) await cache.set(`k${key}`, key);
    await cache.set('new', 1);
    for (let key = 0; key < 5; key++) expect(await cache.hasKey(`k${key}`)).toBe(false);
    expect(await cache.get('new')).toBe(1);
  });

  it('does not refresh the order on hasKey, touch and ttl', async () => {
    const cache = newCache({ maxEntries: 3, cullFrequency: 3 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.hasKey('a')).toBe(true);
    expect(await cache.touch('a', 100)).toBe(true);
    const left = await cache.ttl('a');
    expect(left).toBeGreaterThan(99);
    expect(left).toBeLessThanOrEqual(100);
    await cache.set('d', 4); // culls 3 // 3 = 1: still 'a'
    expect(await cache.hasKey('a')).toBe(false);
    expect(await cache.hasKey('b')).toBe(true);
  });

  it('refreshes the order on add of an expired key', async () => {
    const cache = newCache({ maxEntries: 3, cullFrequency: 3 });
    await cache.set('a', 1, 0);
    await cache.set('b', 2);
    expect(await cache.add('a', 'fresh')).toBe(true);
    await cache.set('c', 3);
    await cache.set('d', 4); // culls the oldest: 'b'
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe('fresh');
  });

  it('stores thousands of entries beyond its initial capacity and culls them in order', async () => {
    const cache = newCache({ maxEntries: 5000, cullFrequency: 2 });
    for (let key = 0; key < 5000; key++) await cache.set(`k${key}`, key);
    expect(await cache.get('k4999')).toBe(4999);
    await cache.set('extra', true); // culls 2500: k0..k2499
    expect(await cache.hasKey('k2499')).toBe(false);
    expect(await cache.get('k2500')).toBe(2500);
    expect(await cache.get('extra')).toBe(true);
  });
});

describe('LocMemCache expiry', () => {
  it('drops expired entries lazily and reports them missing', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('short', 'lived', 1);
    await cache.set('forever', 'lived', null);
    vi.advanceTimersByTime(1_000);
    expect(await cache.get('short', 'gone')).toBe('gone');
    expect(await cache.hasKey('short')).toBe(false);
    expect(await cache.get('forever')).toBe('lived');
  });

  // lru-cache caches its clock and captures `performance` at import, so fake clocks miss it
  // (isaacs/node-lru-cache#345, #349); here every operation reads the global Date.now().
  it('follows a fake clock set after import, without any timer running', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('key', 'value', 60);
    expect(await cache.get('key')).toBe('value');
    vi.setSystemTime(FAKE_START_MS + 59_000);
    expect(await cache.get('key')).toBe('value');
    vi.setSystemTime(FAKE_START_MS + 60_000);
    expect(await cache.get('key')).toBeUndefined();
  });

  it('returns false from touch on an expired key and does not revive it', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('key', 'value', 1);
    vi.advanceTimersByTime(1_500);
    expect(await cache.touch('key', 100)).toBe(false);
    expect(await cache.get('key')).toBeUndefined();
  });

  it('reports the time left to the millisecond, and drops an expired entry it meets', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('key', 'value', 10);
    await cache.set('forever', 'value', null);
    vi.advanceTimersByTime(127);
    expect(await cache.ttl('key')).toBeCloseTo(9.873, 6);
    expect(await cache.ttl('forever')).toBeNull();
    vi.advanceTimersByTime(9_873);
    expect(await cache.ttl('key')).toBeUndefined();
    expect(await cache.touch('key', 10)).toBe(false);
  });

  it('extends the expiry with touch', async () => {
    const cache = cacheOnFakeClock();
    await cache.set('key', 'value', 1);
    expect(await cache.touch('key', 10)).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(await cache.get('key')).toBe('value');
  });

  it('rejects incr on an expired key with KeyNotFoundError', async () => {
    const cache = newCache();
    await cache.set('counter', 1, 0);
    await expect(cache.incr('counter')).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('lets add replace an expired entry', async () => {
    const cache = newCache();
    await cache.set('key', 'old', 0);
    expect(await cache.add('key', 'new')).toBe(true);
    expect(await cache.add('key', 'newer')).toBe(false);
    expect(await cache.get('key')).toBe('new');
  });
});

describe('LocMemCache storeStats', () => {
  it("counts the location's entries, every prefix and expired ones not yet met, with maxEntries", async () => {
    vi.useFakeTimers({ now: FAKE_START_MS });
    const location = freshLocation();
    const cache = new LocMemCache({ location, options: { maxEntries: 50 } });
    const other = new LocMemCache({ location, keyPrefix: 'other' });
    expect(await cache.storeStats()).toEqual({ entries: 0, maxEntries: 50 });
    await cache.setMany({ a: 1, b: { nested: true }, c: 'three' });
    await other.set('a', 1, 1);
    const stats = await cache.storeStats();
    expect(stats).toEqual({ entries: 4, maxEntries: 50 });
    expect(Object.keys(stats)).toEqual(['entries', 'maxEntries']);
    expect(await other.storeStats()).toEqual({ entries: 4, maxEntries: 300 });
    vi.advanceTimersByTime(2000);
    expect((await cache.storeStats()).entries).toBe(4);
    expect(await other.get('a')).toBeUndefined();
    await cache.delete('b');
    expect((await cache.storeStats()).entries).toBe(2);
    expect((await newCache().storeStats()).entries).toBe(0);
  });
});

describe('LocMemCache copies', () => {
  it('stores objects as copies: changing them after set or get changes nothing cached', async () => {
    const cache = newCache();
    const value = { list: [1, 2], nested: { text: 'a' } };
    await cache.set('object', value);
    value.list.push(3);
    value.nested.text = 'changed';
    const first = await cache.get<typeof value>('object');
    expect(first).toEqual({ list: [1, 2], nested: { text: 'a' } });
    first!.list.push(99);
    expect(await cache.get('object')).toEqual({ list: [1, 2], nested: { text: 'a' } });
  });

  it('round-trips Buffers, Dates, Maps and bigints', async () => {
    const cache = newCache();
    const values = { buffer: Buffer.from([0, 1, 255]), date: new Date(0), map: new Map([[1, 'one']]), big: 2n ** 70n };
    for (const [key, value] of Object.entries(values)) await cache.set(key, value);
    for (const [key, value] of Object.entries(values)) expect(await cache.get(key)).toEqual(value);
  });

  it('keeps undefined and null as stored values distinct from a miss', async () => {
    const cache = newCache();
    await cache.set('undefined', undefined);
    await cache.set('null', null);
    expect(await cache.get('undefined', 'default')).toBeUndefined();
    expect(await cache.get('null', 'default')).toBeNull();
    expect(await cache.hasKey('undefined')).toBe(true);
  });

  it('rejects unserializable values with SerializationError and keeps the old value', async () => {
    const cache = newCache();
    await cache.set('key', 'old');
    await expect(cache.set('key', { run: () => 1 })).rejects.toBeInstanceOf(SerializationError);
    await expect(cache.add('other', Symbol('no'))).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.get('key')).toBe('old');
    expect(await cache.hasKey('other')).toBe(false);
  });

  it('reports a getter that throws while copying as a SerializationError', async () => {
    const cache = newCache();
    const value = Object.defineProperty({}, 'broken', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    await expect(cache.set('key', value)).rejects.toBeInstanceOf(SerializationError);
  });

  it('stores nothing from setMany when one value cannot be serialized', async () => {
    const cache = newCache();
    await expect(cache.setMany({ good: 1, bad: () => 1 })).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.hasKey('good')).toBe(false);
  });

  it('passes every value through a non-default serializer', async () => {
    const cache = newCache({ serializer: 'json' });
    await cache.set('text', 'plain');
    expect(await cache.get('text')).toBe('plain');
    await expect(cache.set('big', 1n)).rejects.toBeInstanceOf(SerializationError);
  });

  it('rejects incr on a value that is not an integer', async () => {
    const cache = newCache();
    await cache.set('text', 'abc');
    await expect(cache.incr('text')).rejects.toBeInstanceOf(NonNumericValueError);
    expect(await cache.get('text')).toBe('abc');
  });
});

describe('LocMemCache remembered keys', () => {
  it('does not trust a remembered slot that another key has taken', async () => {
    const cache = newCache();
    await cache.set('first', 'one');
    expect(await cache.get('first')).toBe('one');
    await cache.delete('first');
    await cache.set('second', 'two'); // reuses the freed slot
    expect(await cache.get('first')).toBeUndefined();
    expect(await cache.get('second')).toBe('two');
  });

  it('sees what another instance on the same location wrote after a cull', async () => {
    const location = freshLocation();
    const reader = new LocMemCache({ location, options: { maxEntries: 2, cullFrequency: 0 } });
    const writer = new LocMemCache({ location, options: { maxEntries: 2, cullFrequency: 0 } });
    await reader.set('key', 'old');
    expect(await reader.get('key')).toBe('old');
    await writer.set('other', 1);
    await writer.set('more', 2); // full: clears everything
    await writer.set('key', 'new');
    expect(await reader.get('key')).toBe('new');
  });

  it('reads the new value after set, incr and delete of a key read before', async () => {
    const cache = newCache();
    await cache.set('key', 1);
    expect(await cache.get('key')).toBe(1);
    await cache.set('key', 2);
    expect(await cache.get('key')).toBe(2);
    await cache.incr('key', 5);
    expect(await cache.get('key')).toBe(7);
    await cache.delete('key');
    expect(await cache.get('key', 'gone')).toBe('gone');
  });

  it('keeps versions apart', async () => {
    const cache = newCache();
    await cache.set('key', 'v1');
    await cache.set('key', 'v2', undefined, 2);
    expect(await cache.get('key')).toBe('v1');
    expect(await cache.get('key', undefined, 1)).toBe('v1');
    expect(await cache.get('key', undefined, 2)).toBe('v2');
  });

  it('uses the key function and prefix of each instance', async () => {
    const location = freshLocation();
    const upper = new LocMemCache({ location, keyFunction: (key, prefix, version) => `${prefix}|${version}|${key.toUpperCase()}` });
    const prefixed = new LocMemCache({ location, keyPrefix: 'p' });
    await upper.set('name', 'upper');
    await prefixed.set('name', 'prefixed');
    expect(await upper.get('NAME')).toBe('upper');
    expect(await prefixed.get('name')).toBe('prefixed');
    expect(await new LocMemCache({ location }).get('name')).toBeUndefined();
  });

  it('warns again for a bad key once the warnings are reset', async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const cache = newCache();
      resetCacheKeyWarnings();
      await cache.set('bad key', 1);
      expect(await cache.get('bad key')).toBe(1);
      resetCacheKeyWarnings();
      await cache.get('bad key');
      const emitted = warnings.mock.calls.filter(([warning]) => warning instanceof CacheKeyWarning);
      expect(emitted).toHaveLength(2);
    } finally {
      warnings.mockRestore();
      resetCacheKeyWarnings();
    }
  });

  it('rejects keys that are not strings with InvalidCacheKey', async () => {
    const cache = newCache();
    await expect(cache.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidCacheKey);
    await expect(cache.set(42 as unknown as string, 1)).rejects.toBeInstanceOf(InvalidCacheKey);
  });

  it('stays correct with more keys than it remembers', async () => {
    const cache = newCache({ maxEntries: 5000 });
    for (let key = 0; key < 3000; key++) await cache.set(`k${key}`, key);
    for (let key = 0; key < 3000; key++) expect(await cache.get(`k${key}`)).toBe(key);
  });
});

describe('LocMemCache configuration', () => {
  afterEach(async () => {
    await closeCaches();
  });

  // The registry loads '@cachette/cache-locmem' from the build; tests pass the class itself.
  it('reads options from a registry configuration object', () => {
    configureCaches({ default: { backend: LocMemCache, location: freshLocation(), options: { maxEntries: 1000, cullFrequency: 5 } } });
    const cache = caches.get('default') as LocMemCache;
    expect(cache).toBeInstanceOf(LocMemCache);
    expect([cache.maxEntries, cache.cullFrequency]).toEqual([1000, 5]);
  });

  it('reads location and options from a locmem:// URL', () => {
    const cache = new LocMemCache(commonParamsFromUrl(parseCacheUrl('locmem://sessions?max_entries=1000&cull_frequency=5&timeout=60')));
    expect([cache.location, cache.maxEntries, cache.cullFrequency, cache.defaultTimeout]).toEqual(['sessions', 1000, 5, 60]);
  });

  it('uses Django defaults', () => {
    const cache = new LocMemCache();
    expect([cache.location, cache.maxEntries, cache.cullFrequency, cache.serializer.name]).toEqual(['', 300, 3, 'v8']);
  });

  it('rejects invalid options with a TypeError', () => {
    expect(() => new LocMemCache({ options: { maxEntries: 'many' } })).toThrow(TypeError);
    expect(() => new LocMemCache({ options: { serializer: 'xml' } })).toThrow(TypeError);
    expect(() => new LocMemCache({ location: ['a', 'b'] })).toThrow(/location is the name of its store/);
  });
});
