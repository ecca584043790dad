import type { BaseCache } from '@cachette/cache-core';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const KEYS_WRITTEN = 49;

/** Sets cull1..cull49 into a 30-entry cache and counts what is left. */
async function entriesLeftAfterFilling(cache: BaseCache, key: (name: string) => string): Promise<number> {
  const names = Array.from({ length: KEYS_WRITTEN }, (_, index) => key(`cull${index + 1}`));
  for (const name of names) await cache.set(name, 'value', 1000);
  const present = await Promise.all(names.map((name) => cache.hasKey(name)));
  return present.filter(Boolean).length;
}

/** Django's MAX_ENTRIES / CULL_FREQUENCY culling, with the counts the backend declares. */
export function registerCullingTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'culling', (suite) => {
    const { expect, key } = suite;
    const culling = suite.capabilities.culling;
    const skip = culling ? undefined : 'capabilities.culling is false: the backend does not cull';

    suite.test(`filling a 30-entry cache with ${KEYS_WRITTEN} keys leaves ${culling ? culling.afterCull : 'the declared count'}`, async () => {
      expect(await entriesLeftAfterFilling(await suite.cache('cull'), key)).toBe(culling && culling.afterCull);
    }, { skip });

    suite.test(`with cull frequency 0 the same leaves ${culling ? culling.afterZeroCull : 'the declared count'}`, async () => {
      expect(await entriesLeftAfterFilling(await suite.cache('zeroCull'), key)).toBe(culling && culling.afterZeroCull);
    }, { skip });

    suite.test('a set into an empty store with maxEntries -1 still stores the key', async () => {
      const cache = await suite.createCache({ options: { maxEntries: -1 } });
      await cache.set(key('force_cull_delete'), 'value', 1000);
      expect(await cache.hasKey(key('force_cull_delete'))).toBe(true);
    }, { skip });
  });
}
