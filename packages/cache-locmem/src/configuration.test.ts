import { afterEach, describe, expect, it } from 'vitest';
import { InvalidCacheBackendError, UnknownCacheOptionError, caches, closeCaches, configureCaches, createCache } from '@cachette/cache-core';
import { LocMemCache } from './locmem-cache';

const KNOWN_OPTIONS = 'Known options: cullFrequency, maxEntries, serializer';

afterEach(async () => {
  await closeCaches();
  configureCaches({});
});

describe('LocMemCache configuration with unknown names', () => {
  it("refuses options: { maxEntriez: 5 }, suggesting 'maxEntries' and listing the known options", () => {
    const construct = () => new LocMemCache({ location: 'typo', options: { maxEntriez: 5 } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow(`Unknown option 'maxEntriez' for LocMemCache (did you mean 'maxEntries'?). ${KNOWN_OPTIONS}`);
  });

  it('refuses it through configureCaches and createCache too', async () => {
    configureCaches({ default: { backend: '@cachette/cache-locmem', options: { maxEntriez: 5 } } });
    expect(() => caches.get()).toThrow(`(did you mean 'maxEntries'?). ${KNOWN_OPTIONS}`);
    await expect(createCache({ backend: LocMemCache, options: { cullFrequncy: 2 } })).rejects.toThrow("(did you mean 'cullFrequency'?)");
  });

  it('refuses an unknown URL query parameter, listing the ones a locmem URL takes', async () => {
    await expect(createCache('locmem://typo?max_entriez=5')).rejects.toThrow(
      "Unknown query parameter 'max_entriez' in the cache URL 'locmem://typo?max_entriez=5' (did you mean 'max_entries'?). " +
        'Known query parameters: timeout, key_prefix, version, stats, cull_frequency, max_entries, serializer',
    );
  });

  it('names a backend module or class it cannot find', async () => {
    await expect(createCache({ backend: '@cachette/cache-locmen' })).rejects.toThrow("Could not find backend '@cachette/cache-locmen'");
    await expect(createCache({ backend: '@cachette/cache-locmem#LocMemCach' })).rejects.toThrow("the module has no cache class exported as 'LocMemCach'");
    await expect(createCache({ backend: '@cachette/cache-locmem#LocMemCach' })).rejects.toBeInstanceOf(InvalidCacheBackendError);
  });

  it('still takes every option it knows, by object and by URL', async () => {
    const cache = (await createCache('locmem://known?max_entries=7&cull_frequency=0&serializer=json&timeout=5')) as LocMemCache;
    expect([cache.maxEntries, cache.cullFrequency, cache.serializer.name, cache.defaultTimeout]).toEqual([7, 0, 'json', 5]);
    expect(new LocMemCache({ options: { maxEntries: 9, cullFrequency: 2, serializer: 'v8' } }).maxEntries).toBe(9);
  });
});
