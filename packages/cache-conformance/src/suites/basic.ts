import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

/** Django's basics: set, get, add, delete, hasKey, prefixes and defaults. */
export function registerBasicTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'basics', (suite) => {
    const { expect, key } = suite;

    suite.test('get returns what set stored', async () => {
      const cache = await suite.cache();
      await cache.set(key('key'), 'value');
      expect(await cache.get(key('key'))).toBe('value');
    });

    suite.test('set replaces the stored value', async () => {
      const cache = await suite.cache();
      await cache.set(key('key'), 'first');
      await cache.set(key('key'), 'second');
      expect(await cache.get(key('key'))).toBe('second');
    });

    suite.test('a stored null is returned instead of the default', async () => {
      const cache = await suite.cache();
      await cache.set(key('key'), null);
      expect(await cache.get(key('key'), 'default')).toBe(null);
    });

    suite.test('add stores only when the key is absent and leaves the value unchanged', async () => {
      const cache = await suite.cache();
      expect(await cache.add(key('addkey1'), 'value')).toBe(true);
      expect(await cache.add(key('addkey1'), 'newvalue')).toBe(false);
      expect(await cache.get(key('addkey1'))).toBe('value');
    });

    suite.test('caches with different key prefixes do not see each other', async () => {
      const [cache, prefixed] = await Promise.all([suite.cache(), suite.cache('prefix')]);
      await cache.set(key('somekey'), 'value');
      expect(await prefixed.hasKey(key('somekey'))).toBe(false);
      await prefixed.set(key('somekey'), 'value2');
      expect(await cache.get(key('somekey'))).toBe('value');
      expect(await prefixed.get(key('somekey'))).toBe('value2');
    });

    suite.test('getAwaitable gives what get gives, a Promise only when the backend answers asynchronously', async () => {
      const cache = await suite.cache();
      await cache.set(key('key'), { nested: ['value'] });
      await cache.set(key('null'), null);
      expect(await cache.getAwaitable(key('key'))).toEqual({ nested: ['value'] });
      expect(await cache.getAwaitable(key('null'), 'default')).toBe(null);
      expect(await cache.getAwaitable(key('does_not_exist'), 'bang!')).toBe('bang!');
      expect(await cache.getAwaitable(key('does_not_exist'))).toBe(undefined);
    });

    suite.test('get of a missing key returns undefined, or the default given', async () => {
      const cache = await suite.cache();
      expect(await cache.get(key('does_not_exist'))).toBe(undefined);
      expect(await cache.get(key('does_not_exist'), 'bang!')).toBe('bang!');
    });

    suite.test('delete removes one key, returns true and leaves the others', async () => {
      const cache = await suite.cache();
      await cache.setMany({ [key('key1')]: 'spam', [key('key2')]: 'eggs' });
      expect(await cache.delete(key('key1'))).toBe(true);
      expect(await cache.get(key('key1'))).toBe(undefined);
      expect(await cache.get(key('key2'))).toBe('eggs');
    });

    suite.test('delete of a missing key returns false', async () => {
      const cache = await suite.cache();
      expect(await cache.delete(key('key1'))).toBe(false);
    });

    suite.test('hasKey is true for stored keys, whatever their value or timeout', async () => {
      const cache = await suite.cache();
      await cache.set(key('hello1'), 'goodbye1');
      await cache.set(key('no_expiry'), 'here', null);
      await cache.set(key('null'), null);
      expect(await cache.hasKey(key('hello1'))).toBe(true);
      expect(await cache.hasKey(key('goodbye1'))).toBe(false);
      expect(await cache.hasKey(key('no_expiry'))).toBe(true);
      expect(await cache.hasKey(key('null'))).toBe(true);
    });
  });
}
