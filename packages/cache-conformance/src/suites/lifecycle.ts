import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

/** clear and close. */
export function registerLifecycleTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'lifecycle', (suite) => {
    const { expect, key } = suite;

    suite.test('clear removes every key of the cache', async () => {
      const cache = await suite.cache();
      await cache.setMany({ [key('key1')]: 'spam', [key('key2')]: 'eggs' });
      await cache.set(key('forever'), 'x', null);
      await cache.clear();
      expect(await cache.getMany([key('key1'), key('key2'), key('forever')])).toEqual(new Map());
    });

    suite.test('clear on an empty store succeeds, with and without a key prefix', async () => {
      const [cache, prefixed] = await Promise.all([suite.cache(), suite.cache('prefix')]);
      await cache.clear();
      await cache.clear();
      await prefixed.clear();
      await prefixed.set(key('after'), 'works');
      expect(await prefixed.get(key('after'))).toBe('works');
    });

    suite.test('clear through a prefixed cache removes its keys', async () => {
      const prefixed = await suite.cache('prefix');
      await prefixed.setMany({ [key('key1')]: 1, [key('key2')]: 2 });
      await prefixed.clear();
      expect(await prefixed.getMany([key('key1'), key('key2')])).toEqual(new Map());
    });

    suite.test("clear removes other prefixes' and versions' keys too", async () => {
      const [cache, prefixed, v2] = await Promise.all([suite.cache(), suite.cache('prefix'), suite.cache('v2')]);
      await cache.set(key('plain'), 1);
      await v2.set(key('versioned'), 2);
      await prefixed.clear();
      expect(await cache.hasKey(key('plain'))).toBe(false);
      expect(await v2.hasKey(key('versioned'))).toBe(false);
    }, { skip: suite.capabilities.clearIsGlobal ? undefined : 'capabilities.clearIsGlobal is false' });

    suite.test('close resolves and can be called again', async () => {
      const cache = await suite.createCache({});
      await cache.set(key('key'), 'value');
      expect(await cache.close()).toBe(undefined);
      expect(await cache.close()).toBe(undefined);
    });

    suite.test('closing one cache leaves other caches over the same store working', async () => {
      const [closing, other] = await Promise.all([suite.createCache({}), suite.cache()]);
      await closing.set(key('shared'), 'value');
      await closing.close();
      expect(await other.get(key('shared'))).toBe('value');
      await other.set(key('after-close'), 'still works');
      expect(await other.get(key('after-close'))).toBe('still works');
    });
  });
}
