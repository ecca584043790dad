import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

/** A custom key function decides where values live. */
export function registerKeyFunctionTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'key function', (suite) => {
    const { expect, key } = suite;

    suite.test('caches with a custom key function share keys with each other, not with the default', async () => {
      const [cache, custom, custom2] = await Promise.all([suite.cache(), suite.cache('customKey'), suite.cache('customKey2')]);
      await cache.set(key('answer1'), 42);
      expect(await cache.get(key('answer1'))).toBe(42);
      expect(await custom.get(key('answer1'))).toBe(undefined);
      expect(await custom2.get(key('answer1'))).toBe(undefined);

      await custom.set(key('answer2'), 42);
      expect(await cache.get(key('answer2'))).toBe(undefined);
      expect(await custom.get(key('answer2'))).toBe(42);
      expect(await custom2.get(key('answer2'))).toBe(42);
    });

    suite.test('the key function receives the key, the prefix and the version', async () => {
      const calls: Array<[string, string, number]> = [];
      const cache = await suite.createCache({
        keyPrefix: 'recorded',
        version: 7,
        keyFunction: (name, prefix, version) => {
          calls.push([name, prefix, version]);
          return `recorded|${prefix}|${version}|${name}`;
        },
      });
      await cache.set(key('answer'), 42, undefined, 3);
      expect(await cache.get(key('answer'), undefined, 3)).toBe(42);
      expect(await cache.get(key('answer'))).toBe(undefined);
      expect(calls).toEqual([
        [key('answer'), 'recorded', 3],
        [key('answer'), 'recorded', 3],
        [key('answer'), 'recorded', 7],
      ]);
    });
  });
}
