import { describe, expect, it, vi } from 'vitest';
import { MISSING } from './base-cache';
import { DummyCache } from './dummy-cache';
import { CacheError, InvalidCacheKey, KeyNotFoundError, NonNumericValueError, NotSupportedError } from './errors';
import { nowInSeconds, secondsUntil } from './timeouts';
import { MapCache } from './test-map-cache';

/** MapCache reading the expiries it keeps. */
class ExpiryReadingMapCache extends MapCache {
  protected override ttlItem(key: string) {
    const entry = this.live(key);
    return entry ? secondsUntil(entry.expires) : MISSING;
  }
}

describe('BaseCache settings', () => {
  it("has Django's defaults", () => {
    const cache = new MapCache();
    expect(cache.defaultTimeout).toBe(300);
    expect(cache.keyPrefix).toBe('');
    expect(cache.version).toBe(1);
    expect(cache.makeKey('k')).toBe(':1:k');
    expect(cache.makeKey('k', 3)).toBe(':3:k');
  });

  it('takes prefix, version, timeout and a key function', () => {
    const cache = new MapCache({ keyPrefix: 'p', version: 2, timeout: null, keyFunction: (k, p, v) => `${p}/${v}/${k}` });
    expect(cache.defaultTimeout).toBeNull();
    expect(cache.makeKey('k')).toBe('p/2/k');
  });

  it('accepts a numeric timeout string from configuration and rejects junk', () => {
    expect(new MapCache({ timeout: '60' as never }).defaultTimeout).toBe(60);
    expect(() => new MapCache({ timeout: 'soon' as never })).toThrow(TypeError);
    expect(() => new MapCache({ version: 1.5 })).toThrow(TypeError);
  });
});

describe('getBackendTimeout', () => {
  const cache = new MapCache({ timeout: 300 });

  it('turns seconds into an absolute expiry', () => {
    const before = nowInSeconds();
    expect(cache.getBackendTimeout(10)).toBeGreaterThanOrEqual(before + 10);
    expect(cache.getBackendTimeout(undefined)).toBeGreaterThanOrEqual(before + 300);
    expect(cache.getBackendTimeout(0.5)! - before).toBeLessThan(1);
  });

  it('keeps null (never) and puts 0 and negatives in the past', () => {
    expect(cache.getBackendTimeout(null)).toBeNull();
    expect(cache.getBackendTimeout(0)).toBeLessThan(nowInSeconds());
    expect(cache.getBackendTimeout(-5)).toBeLessThan(nowInSeconds());
  });
});

describe('the public API', () => {
  it('rejects (never throws synchronously) on bad timeouts and keys', async () => {
    const cache = new MapCache();
    const badTimeout = cache.set('k', 1, 'soon' as never);
    expect(badTimeout).toBeInstanceOf(Promise);
    await expect(badTimeout).rejects.toThrow(TypeError);
    await expect(cache.get(42 as never)).rejects.toThrow(InvalidCacheKey);
    await expect(cache.add('k', 1, NaN)).rejects.toThrow(TypeError);
    await expect(cache.incr('k', 1.5)).rejects.toThrow(TypeError);
  });

  it('reads Infinity as never expiring', async () => {
    const cache = new MapCache();
    await cache.set('k', 1, Infinity);
    expect(cache.timeouts.at(-1)).toBeNull();
  });

  it('maps made keys back to the caller keys in getMany and setMany', async () => {
    const cache = new MapCache({ keyPrefix: 'p' });
    expect(await cache.setMany({ a: 1, b: null })).toEqual([]);
    expect(await cache.setMany(new Map([['c', 'x']]))).toEqual([]);
    const found = await cache.getMany(['a', 'b', 'missing', 'c', 'a'][Symbol.iterator]());
    expect([...found]).toEqual([['a', 1], ['b', null], ['c', 'x']]);
    expect([...cache.entries.keys()]).toEqual(['p:1:a', 'p:1:b', 'p:1:c']);
  });

  it('rejects incr on a missing key with the caller key, and on non-integers', async () => {
    const cache = new MapCache();
    await expect(cache.incr('nope')).rejects.toThrow(KeyNotFoundError);
    await expect(cache.incr('nope')).rejects.toThrow("Key 'nope' not found");
    await cache.set('text', 'abc');
    await expect(cache.incr('text')).rejects.toThrow(NonNumericValueError);
    await cache.set('n', 41);
    expect(await cache.incr('n')).toBe(42);
    expect(await cache.decr('n', 10)).toBe(32);
  });

  it('moves values between versions and rejects a missing one', async () => {
    const cache = new MapCache();
    await cache.set('k', null, undefined, 2);
    expect(await cache.incrVersion('k', 1, 2)).toBe(3);
    expect(await cache.hasKey('k', 2)).toBe(false);
    expect(await cache.get('k', 'default', 3)).toBeNull();
    expect(await cache.decrVersion('k', 2, 3)).toBe(1);
    await expect(cache.incrVersion('absent')).rejects.toThrow(KeyNotFoundError);
  });
});

describe('ttl', () => {
  it('gives the seconds left, null for never, undefined for a missing or expired key', async () => {
    const cache = new ExpiryReadingMapCache();
    await cache.set('ten', 1, 10);
    await cache.set('never', 1, null);
    await cache.set('gone', 1, 0);
    const left = await cache.ttl('ten');
    expect(left).toBeGreaterThan(9);
    expect(left).toBeLessThanOrEqual(10);
    expect(await cache.ttl('never')).toBeNull();
    expect(await cache.ttl('gone')).toBeUndefined();
    expect(await cache.ttl('absent')).toBeUndefined();
    expect(await cache.ttl('ten', 2)).toBeUndefined();
  });

  it('reads a key with no time left as expired, whatever the store says', async () => {
    const cache = new ExpiryReadingMapCache();
    vi.spyOn(cache as unknown as { ttlItem: () => number }, 'ttlItem').mockReturnValueOnce(0).mockReturnValueOnce(-0.5);
    expect(await cache.ttl('now')).toBeUndefined();
    expect(await cache.ttl('now')).toBeUndefined();
  });

  it('makes and validates the key as every operation does', async () => {
    const cache = new ExpiryReadingMapCache({ keyPrefix: 'p' });
    await cache.set('k', 1, null, 3);
    expect([...cache.entries.keys()]).toEqual(['p:3:k']);
    expect(await cache.ttl('k', 3)).toBeNull();
    await expect(cache.ttl(42 as never)).rejects.toThrow(InvalidCacheKey);
  });

  it('rejects with NotSupportedError, naming the backend, where the store cannot tell', async () => {
    const cache = new MapCache();
    await cache.set('k', 1);
    const answer = cache.ttl('k');
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).rejects.toThrow(NotSupportedError);
    await expect(cache.ttl('k')).rejects.toThrow("MapCache cannot report a key's remaining time");
    expect(new NotSupportedError('x')).toBeInstanceOf(CacheError);
  });
});

describe('storeStats', () => {
  it('rejects with NotSupportedError, naming the backend, unless the backend reports; DummyCache reports an empty store', async () => {
    const cache = new MapCache();
    await cache.set('k', 1);
    const answer = cache.storeStats();
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).rejects.toThrow(NotSupportedError);
    await expect(cache.storeStats()).rejects.toThrow('MapCache reports nothing about its store');
    const dummy = new DummyCache();
    await dummy.set('k', 1);
    expect(await dummy.storeStats()).toEqual({ entries: 0 });
  });
});

describe('getOrSet', () => {
  it('stores the default or the result of calling it', async () => {
    const cache = new MapCache();
    expect(await cache.getOrSet('a', 42)).toBe(42);
    expect(await cache.getOrSet('a', 43)).toBe(42);
    expect(await cache.getOrSet('b', async () => 'computed')).toBe('computed');
    expect(await cache.getOrSet('null', null)).toBeNull();
    expect(await cache.get('null', 'default')).toBeNull();
  });

  it('shares one computation between concurrent callers of one key', async () => {
    const cache = new MapCache();
    const factory = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'value';
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet('shared', factory)));
    expect(results).toEqual(Array(10).fill('value'));
    expect(factory).toHaveBeenCalledTimes(1);
    // After it settles, a new call reads the stored value without computing.
    expect(await cache.getOrSet('shared', factory)).toBe('value');
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('returns the default when nothing ends up stored (timeout 0)', async () => {
    const cache = new MapCache();
    expect(await cache.getOrSet('zero', 'default', 0)).toBe('default');
    expect(await cache.hasKey('zero')).toBe(false);
  });

  it('propagates a failing factory to every waiter and computes again next time', async () => {
    const cache = new MapCache();
    const failing = () => Promise.reject(new Error('backend of record is down'));
    const both = await Promise.allSettled([cache.getOrSet('f', failing), cache.getOrSet('f', failing)]);
    expect(both.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(await cache.getOrSet('f', 'recovered')).toBe('recovered');
  });
});

describe('error classes', () => {
  it('are recognised across separately loaded copies of this package', async () => {
    vi.resetModules();
    // A query string makes vitest load a second, independent instance of the module.
    const otherCopy = (await import(/* @vite-ignore */ `./errors?copy=${Date.now()}`)) as typeof import('./errors');
    const foreign = new otherCopy.InvalidCacheKey('bad');
    expect(otherCopy.InvalidCacheKey).not.toBe(InvalidCacheKey);
    expect(foreign).toBeInstanceOf(InvalidCacheKey);
    expect(foreign).toBeInstanceOf(CacheError);
    expect(foreign).toBeInstanceOf(Error);
    expect(foreign).not.toBeInstanceOf(KeyNotFoundError);
    expect(foreign.name).toBe('InvalidCacheKey');
  });
});

describe('primitivesOf', () => {
  // A cache that stores through another one, as TieredCache does.
  class Wrapper extends MapCache {
    inner(cache: MapCache) {
      return MapCache.primitivesOf(cache);
    }
  }

  it("reaches another cache's primitives on made keys, with that cache's timeout conversion", async () => {
    const inner = new MapCache({ keyPrefix: 'ignored' });
    const primitives = new Wrapper().inner(inner);
    const expiry = primitives.backendTimeout(10)!;
    expect(expiry).toBeGreaterThan(nowInSeconds() + 9);
    await primitives.set('made:1:a', 'value', expiry);
    expect(inner.entries.get('made:1:a')?.value).toBe('value');
    expect(await primitives.get('made:1:a')).toBe('value');
    expect(await primitives.add('made:1:a', 'other', expiry)).toBe(false);
    expect(await primitives.incr('made:1:missing', 1)).toBe(MISSING);
    expect(await primitives.getMany(['made:1:a', 'made:1:b'])).toEqual(new Map([['made:1:a', 'value']]));
    expect(await primitives.delete('made:1:a')).toBe(true);
    expect(await primitives.has('made:1:a')).toBe(false);
  });
});
