import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DummyCache } from './dummy-cache';
import { KeyNotFoundError } from './errors';
import { resetCacheKeyWarnings } from './keys';

// Django's DummyCacheTests, in our async API.
describe('DummyCache', () => {
  const cache = new DummyCache();

  it('stores nothing', async () => {
    await cache.set('key', 'value');
    expect(await cache.get('key')).toBeUndefined();
    expect(await cache.get('key', 'default')).toBe('default');
    expect(await cache.hasKey('key')).toBe(false);
    expect(await cache.ttl('key')).toBeUndefined();
  });

  it('says add succeeded, yet stores nothing', async () => {
    expect(await cache.add('addkey', 'value')).toBe(true);
    expect(await cache.add('addkey', 'other')).toBe(true);
    expect(await cache.get('addkey')).toBeUndefined();
  });

  it('has nothing to touch or delete', async () => {
    expect(await cache.touch('key')).toBe(false);
    expect(await cache.delete('key')).toBe(false);
    await expect(cache.deleteMany(['a', 'b'])).resolves.toBeUndefined();
    await expect(cache.clear()).resolves.toBeUndefined();
  });

  it('returns empty results for the many-key methods', async () => {
    expect(await cache.setMany({ a: 1, b: 2 })).toEqual([]);
    expect(await cache.setMany({ a: 1 }, undefined, 1)).toEqual([]);
    expect((await cache.getMany(['a', 'b'])).size).toBe(0);
  });

  it('rejects counters and version moves: no key exists', async () => {
    await expect(cache.incr('answer')).rejects.toThrow(KeyNotFoundError);
    await expect(cache.decr('answer')).rejects.toThrow(KeyNotFoundError);
    await expect(cache.incrVersion('answer')).rejects.toThrow(KeyNotFoundError);
    await expect(cache.decrVersion('answer')).rejects.toThrow(KeyNotFoundError);
  });

  it('returns the default from getOrSet, calling it when it is a function', async () => {
    expect(await cache.getOrSet('k', 'default')).toBe('default');
    expect(await cache.getOrSet('k', () => 'computed')).toBe('computed');
  });

  it('accepts unicode keys and binary values', async () => {
    await cache.set('ascii清', Buffer.from([0, 255]));
    expect(await cache.get('ascii清')).toBeUndefined();
  });

  describe('still validates keys', () => {
    const warnings: string[] = [];
    const listener = (warning: Error) => warning.name === 'CacheKeyWarning' && warnings.push(warning.message);
    beforeEach(() => {
      resetCacheKeyWarnings();
      process.on('warning', listener);
    });
    afterEach(() => {
      process.off('warning', listener);
      warnings.length = 0;
    });

    it('warns about keys memcached would reject', async () => {
      await cache.get('key with spaces');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual(["Cache key contains characters that will cause errors if used with memcached: ':1:key with spaces'"]);
    });
  });
});
