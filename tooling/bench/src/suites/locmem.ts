import { LRUCache } from 'lru-cache';
import { LocMemCache } from '@cachette/cache-locmem';
import { defineSuite } from '../harness';

// A power of two, so the candidates pick keys with a mask instead of a division.
const KEY_COUNT = 1024;
const KEY_MASK = KEY_COUNT - 1;
const MANY_SIZE = 10;

const keys = Array.from({ length: KEY_COUNT }, (_, index) => `user:${index}:profile`);
const absentKeys = keys.map((key) => `absent:${key}`);
const value = 'a cached string value of moderate length';
const objectValue = { id: 42, name: 'Ada', roles: ['admin', 'editor'], active: true };
const manyKeys = Array.from({ length: KEY_COUNT }, (_, start) => Array.from({ length: MANY_SIZE }, (_, offset) => keys[(start + offset) & KEY_MASK]!));

/** A locmem cache built without the observation check: what `get` costs with no channel compiled in. */
class UnobservedLocMemCache extends LocMemCache {
  protected override isObserved(): boolean {
    return false;
  }
}

function lruGetMany(lru: LRUCache<string, string>, batch: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const key of batch) {
    const hit = lru.get(key);
    if (hit !== undefined) found.set(key, hit);
  }
  return found;
}

export default defineSuite({
  description: '@cachette/cache-locmem (awaited, default options) against lru-cache (synchronous, no TTL)',
  async setup() {
    const cache = new LocMemCache({ location: 'bench', options: { maxEntries: KEY_COUNT * 4 } });
    const neverExpiring = new LocMemCache({ location: 'bench-never-expiring', timeout: null, options: { maxEntries: KEY_COUNT * 4 } });
    const lru = new LRUCache<string, string>({ max: KEY_COUNT * 4 });
    const lruWithTtl = new LRUCache<string, string>({ max: KEY_COUNT * 4, ttl: 300_000 });
    const objects = new LocMemCache({ location: 'bench-objects', options: { maxEntries: KEY_COUNT * 4 } });
    const lruObjects = new LRUCache<string, typeof objectValue>({ max: KEY_COUNT * 4 });
    // Each its own location: the same entries in three stores.
    const unobserved = new UnobservedLocMemCache({ location: 'bench-unobserved', options: { maxEntries: KEY_COUNT * 4 } });
    const counted = new LocMemCache({ location: 'bench-counted', stats: true, options: { maxEntries: KEY_COUNT * 4 } });
    for (const key of keys) {
      await cache.set(key, value);
      await neverExpiring.set(key, value);
      lru.set(key, value);
      lruWithTtl.set(key, value);
      await objects.set(key, objectValue);
      lruObjects.set(key, objectValue);
      await unobserved.set(key, value);
      await counted.set(key, value);
    }
    return {
      cases: [
        {
          name: 'get string hit',
          baseline: 'lru-cache',
          target: { candidate: 'cachette', minRatio: 1 / 3 },
          candidates: [
            { name: 'cachette', run: (i) => cache.get(keys[i & KEY_MASK]!) },
            // timeout: null, so no entry can expire and a hit reads no clock.
            { name: 'cachette no expiry', run: (i) => neverExpiring.get(keys[i & KEY_MASK]!) },
            { name: 'lru-cache', run: (i) => lru.get(keys[i & KEY_MASK]!) },
            { name: 'lru-cache ttl', run: (i) => lruWithTtl.get(keys[i & KEY_MASK]!) },
            { name: 'lru-cache awaited', run: async (i) => lru.get(keys[i & KEY_MASK]!) },
          ],
        },
        {
          // `cachette:operation` compiled in but unsubscribed, against the same get without the
          // check; and with `stats: true`, which times and counts every call.
          name: 'get string hit, observation',
          baseline: 'without the check',
          target: { candidate: 'cachette', minRatio: 0.95 },
          candidates: [
            { name: 'cachette', run: (i) => cache.get(keys[i & KEY_MASK]!) },
            { name: 'without the check', run: (i) => unobserved.get(keys[i & KEY_MASK]!) },
            { name: 'stats: true', run: (i) => counted.get(keys[i & KEY_MASK]!) },
          ],
        },
        {
          // Keys built by the application on each call, as with `user:${id}`: a new string every time.
          name: 'get string hit, key built per call',
          baseline: 'lru-cache',
          candidates: [
            { name: 'cachette', run: (i) => cache.get(`user:${i & KEY_MASK}:profile`) },
            { name: 'lru-cache', run: (i) => lru.get(`user:${i & KEY_MASK}:profile`) },
          ],
        },
        {
          // Cachette returns a copy (v8 deserialization); lru-cache returns the stored object itself.
          name: 'get object hit',
          baseline: 'lru-cache',
          candidates: [
            { name: 'cachette', run: (i) => objects.get(keys[i & KEY_MASK]!) },
            { name: 'lru-cache', run: (i) => lruObjects.get(keys[i & KEY_MASK]!) },
            { name: 'lru-cache + structuredClone', run: (i) => structuredClone(lruObjects.get(keys[i & KEY_MASK]!)) },
          ],
        },
        {
          name: 'get miss',
          baseline: 'lru-cache',
          candidates: [
            { name: 'cachette', run: (i) => cache.get(absentKeys[i & KEY_MASK]!) },
            { name: 'lru-cache', run: (i) => lru.get(absentKeys[i & KEY_MASK]!) },
          ],
        },
        {
          name: 'set string',
          baseline: 'lru-cache',
          candidates: [
            { name: 'cachette', run: (i) => cache.set(keys[i & KEY_MASK]!, value) },
            { name: 'lru-cache', run: (i) => lru.set(keys[i & KEY_MASK]!, value) },
            { name: 'lru-cache ttl', run: (i) => lruWithTtl.set(keys[i & KEY_MASK]!, value) },
          ],
        },
        {
          name: 'set object',
          baseline: 'lru-cache + structuredClone',
          candidates: [
            { name: 'cachette', run: (i) => objects.set(keys[i & KEY_MASK]!, objectValue) },
            { name: 'lru-cache + structuredClone', run: (i) => lruObjects.set(keys[i & KEY_MASK]!, structuredClone(objectValue)) },
          ],
        },
        {
          name: `getMany ${MANY_SIZE} hits`,
          baseline: 'lru-cache',
          candidates: [
            { name: 'cachette', run: (i) => cache.getMany(manyKeys[i & KEY_MASK]!) },
            { name: 'lru-cache', run: (i) => lruGetMany(lru, manyKeys[i & KEY_MASK]!) },
          ],
        },
      ],
    };
  },
});
