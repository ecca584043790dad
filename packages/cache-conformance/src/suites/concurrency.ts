import { KeyNotFoundError, NonNumericValueError, SerializationError, type BaseCache } from '@cachette/cache-core';
import { expectSettledRejection } from '../expectations';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';
import { fingerprint, patternedValue } from '../value-samples';

const KEYS = 50;
const MANY_KEYS = 1500;
// Sizes at the edges of common read and write buffers (socket chunks, 16 KiB TLS records, 64 KiB pipes).
const BOUNDARY_SIZES = [1, 2, 255, 256, 1023, 1024, 1025, 8191, 8192, 8193, 16383, 16384, 16385, 65535, 65536, 65537];

const indexes = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

/**
 * A cache that will not cull while a test holds more keys than the default 300 entries. Only a
 * backend that culls is given `maxEntries`: the others refuse options they do not know.
 */
function roomyCache(suite: SuiteContext): Promise<BaseCache> {
  return suite.capabilities.culling ? suite.createCache({ options: { maxEntries: 100_000 } }) : suite.cache();
}

/**
 * Many operations in flight at once on one cache: each must get its own reply, whatever the
 * others do, including failing. Network backends pipeline these on shared connections.
 */
export function registerConcurrencyTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'concurrency', (suite) => {
    const { expect, key } = suite;

    suite.test(`operations of every kind on ${KEYS} keys at once each get their own reply`, async () => {
      const cache = await suite.cache();
      await Promise.all(indexes(KEYS).flatMap((i) => [
        cache.set(key(`value${i}`), `value ${i}`),
        cache.set(key(`counter${i}`), i),
        cache.set(key(`doomed${i}`), i),
      ]));
      const replies = await Promise.all(indexes(KEYS).map((i) => Promise.all([
        cache.get(key(`value${i}`)),
        cache.hasKey(key(`missing${i}`)),
        cache.incr(key(`counter${i}`), i),
        cache.getMany([key(`value${i}`), key(`missing${i}`), key(`value${(i + 1) % KEYS}`)]),
        cache.delete(key(`doomed${i}`)),
        cache.add(key(`value${i}`), 'not stored'),
        cache.touch(key(`missing${i}`)),
        cache.get(key(`missing${i}`), `default ${i}`),
      ])));
      for (const i of indexes(KEYS)) {
        const next = (i + 1) % KEYS;
        expect([i, replies[i]]).toEqual([
          i,
          [`value ${i}`, false, 2 * i, new Map([[key(`value${i}`), `value ${i}`], [key(`value${next}`), `value ${next}`]]), true, false, false, `default ${i}`],
        ]);
      }
    });

    suite.test('failing operations among concurrent ones leave the other replies intact', async () => {
      const cache = await suite.cache();
      // Each operation has a key of its own: a pool of connections does not order operations on one key.
      await Promise.all(indexes(KEYS).flatMap((i) => [
        cache.set(key(`value${i}`), i),
        cache.set(key(`counter${i}`), i),
        cache.set(key(`kept${i}`), i),
        cache.set(key(`text${i}`), `text ${i}`),
      ]));
      const outcomes = await Promise.allSettled(indexes(KEYS).flatMap((i) => [
        cache.incr(key(`text${i}`)),
        cache.get(key(`value${i}`)),
        cache.incr(key(`missing${i}`)),
        cache.set(key(`kept${i}`), () => 'a function'),
        cache.incr(key(`counter${i}`)),
      ]));
      for (const i of indexes(KEYS)) {
        const [nonNumeric, read, missing, unserializable, incremented] = outcomes.slice(i * 5, i * 5 + 5);
        expectSettledRejection(nonNumeric, NonNumericValueError, `incr of text${i}`);
        expectSettledRejection(missing, KeyNotFoundError, `incr of missing${i}`);
        expectSettledRejection(unserializable, SerializationError, `set of a function under kept${i}`);
        expect([i, read, incremented]).toEqual([i, { status: 'fulfilled', value: i }, { status: 'fulfilled', value: i + 1 }]);
      }
      const kept = await cache.getMany(indexes(KEYS).map((i) => key(`kept${i}`)));
      expect(kept).toEqual(new Map(indexes(KEYS).map((i) => [key(`kept${i}`), i])));
    });

    suite.test(`values of ${BOUNDARY_SIZES.length} sizes around buffer boundaries round-trip, one by one and together`, async () => {
      const cache = await suite.cache();
      const values = new Map(BOUNDARY_SIZES.map((size, seed) => [key(`size${size}`), patternedValue(size, seed, suite.capabilities.values)]));
      await Promise.all([...values].map(([name, value]) => cache.set(name, value)));
      const expected = [...values.values()].map(fingerprint);
      const read = await Promise.all([...values.keys()].map((name) => cache.get(name)));
      expect(read.map(fingerprint)).toEqual(expected);
      const found = await cache.getMany(values.keys());
      expect([...values.keys()].map((name) => fingerprint(found.get(name)))).toEqual(expected);
    });

    suite.test(`getMany, setMany and deleteMany handle ${MANY_KEYS} keys at once`, async () => {
      const cache = await roomyCache(suite);
      const entries = new Map(indexes(MANY_KEYS).map((i) => [key(`many${i}`), i % 2 === 0 ? i : `value ${i}`]));
      expect(await cache.setMany(entries)).toEqual([]);
      expect(await cache.getMany(entries.keys())).toEqual(entries);
      const deleted = new Set([...entries.keys()].filter((_, i) => i % 3 === 0));
      await cache.deleteMany(deleted);
      const left = new Map([...entries].filter(([name]) => !deleted.has(name)));
      expect(await cache.getMany(entries.keys())).toEqual(left);
    });
  });
}
