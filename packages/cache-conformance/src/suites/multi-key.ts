import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

function* iterate<T>(items: readonly T[]): Generator<T> {
  yield* items;
}

/** getMany, setMany and deleteMany. */
export function registerMultiKeyTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'multi-key', (suite) => {
    const { expect, key } = suite;
    const entries = (...pairs: Array<[string, unknown]>): Map<string, unknown> => new Map(pairs.map(([name, value]) => [key(name), value]));

    suite.test('getMany returns the keys found, under the keys asked for, and leaves out missing ones', async () => {
      const cache = await suite.cache();
      await cache.setMany(entries(['a', 'a'], ['b', 'b'], ['c', 'c'], ['d', 'd']));
      expect(await cache.getMany([key('a'), key('c'), key('d')])).toEqual(entries(['a', 'a'], ['c', 'c'], ['d', 'd']));
      expect(await cache.getMany([key('a'), key('b'), key('e')])).toEqual(entries(['a', 'a'], ['b', 'b']));
    });

    suite.test('getMany accepts an iterator and a Set', async () => {
      const cache = await suite.cache();
      await cache.setMany(entries(['a', 1], ['b', 2]));
      expect(await cache.getMany(iterate([key('a'), key('b'), key('c')]))).toEqual(entries(['a', 1], ['b', 2]));
      expect(await cache.getMany(new Set([key('b'), key('c')]))).toEqual(entries(['b', 2]));
    });

    suite.test('getMany includes stored nulls', async () => {
      const cache = await suite.cache();
      await cache.set(key('null'), null);
      expect(await cache.getMany([key('null'), key('missing')])).toEqual(entries(['null', null]));
    });

    suite.test('getMany with a key asked for twice returns it once', async () => {
      const cache = await suite.cache();
      await cache.setMany(entries(['a', 1], ['b', 2]));
      const found = await cache.getMany([key('a'), key('a'), key('b'), key('a')]);
      expect(found).toEqual(entries(['a', 1], ['b', 2]));
      expect(found.size).toBe(2);
    });

    suite.test('getMany of no keys returns an empty Map', async () => {
      const cache = await suite.cache();
      expect(await cache.getMany([])).toEqual(new Map());
    });

    suite.test('setMany stores an object and returns an empty list', async () => {
      const cache = await suite.cache();
      expect(await cache.setMany({ [key('key1')]: 'spam', [key('key2')]: 'eggs' })).toEqual([]);
      expect(await cache.get(key('key1'))).toBe('spam');
      expect(await cache.get(key('key2'))).toBe('eggs');
    });

    suite.test('setMany stores a Map and returns an empty list', async () => {
      const cache = await suite.cache();
      expect(await cache.setMany(entries(['key1', 'spam'], ['key2', { eggs: 2 }]))).toEqual([]);
      expect(await cache.getMany([key('key1'), key('key2')])).toEqual(entries(['key1', 'spam'], ['key2', { eggs: 2 }]));
    });

    suite.test('setMany replaces stored values', async () => {
      const cache = await suite.cache();
      await cache.set(key('key1'), 'old');
      await cache.setMany({ [key('key1')]: 'new' });
      expect(await cache.get(key('key1'))).toBe('new');
    });

    suite.test('setMany of no data returns an empty list', async () => {
      const cache = await suite.cache();
      expect(await cache.setMany({})).toEqual([]);
      expect(await cache.setMany(new Map())).toEqual([]);
    });

    suite.test('setMany applies its timeout to every key', async () => {
      const cache = await suite.cache();
      await cache.hasKey(key('warm-up'));
      await cache.setMany({ [key('key1')]: 'spam', [key('key2')]: 'eggs' }, suite.seconds(1));
      await suite.sleep(2.5);
      expect(await cache.getMany([key('key1'), key('key2')])).toEqual(new Map());
    }, { sleepUnits: 2.5 });

    suite.test('deleteMany removes the keys given and leaves the others', async () => {
      const cache = await suite.cache();
      await cache.setMany(entries(['key1', 'spam'], ['key2', 'eggs'], ['key3', 'ham']));
      expect(await cache.deleteMany([key('key1'), key('key2'), key('missing')])).toBe(undefined);
      expect(await cache.getMany([key('key1'), key('key2'), key('key3')])).toEqual(entries(['key3', 'ham']));
    });

    suite.test('deleteMany accepts an iterator, and no keys at all', async () => {
      const cache = await suite.cache();
      await cache.setMany(entries(['key1', 1], ['key2', 2]));
      expect(await cache.deleteMany([])).toBe(undefined);
      await cache.deleteMany(iterate([key('key1')]));
      expect(await cache.getMany([key('key1'), key('key2')])).toEqual(entries(['key2', 2]));
    });
  });
}
