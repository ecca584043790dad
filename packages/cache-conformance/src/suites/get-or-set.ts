import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const CONCURRENT_CALLS = 10;

/** getOrSet: defaults, factories, races with other writers and coalescing of concurrent calls. */
export function registerGetOrSetTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'getOrSet', (suite) => {
    const { expect, key } = suite;

    suite.test('getOrSet stores the default when missing and returns the stored value after', async () => {
      const cache = await suite.cache();
      expect(await cache.get(key('projector'))).toBe(undefined);
      expect(await cache.getOrSet(key('projector'), 42)).toBe(42);
      expect(await cache.get(key('projector'))).toBe(42);
      expect(await cache.getOrSet(key('projector'), 43)).toBe(42);
    });

    suite.test('getOrSet with a null default stores null', async () => {
      const cache = await suite.cache();
      expect(await cache.getOrSet(key('null'), null)).toBe(null);
      expect(await cache.get(key('null'), 'default')).toBe(null);
      expect(await cache.getOrSet(key('null'), 'other')).toBe(null);
    });

    suite.test('getOrSet calls a function default and stores its result, null included', async () => {
      const cache = await suite.cache();
      expect(await cache.getOrSet(key('mykey'), () => 'value')).toBe('value');
      expect(await cache.get(key('mykey'))).toBe('value');
      expect(await cache.getOrSet(key('null'), () => null)).toBe(null);
      expect(await cache.hasKey(key('null'))).toBe(true);
    });

    suite.test('getOrSet awaits an async factory and stores the value, not the promise', async () => {
      const cache = await suite.cache();
      expect(await cache.getOrSet(key('async'), async () => ({ computed: true }))).toEqual({ computed: true });
      expect(await cache.get(key('async'))).toEqual({ computed: true });
    });

    suite.test('getOrSet does not call the factory when the key is stored', async () => {
      const cache = await suite.cache();
      await cache.set(key('present'), 'stored');
      let calls = 0;
      expect(await cache.getOrSet(key('present'), () => ++calls)).toBe('stored');
      expect(calls).toBe(0);
    });

    suite.test('getOrSet returns a stored undefined without calling the factory', async () => {
      const cache = await suite.cache();
      await cache.set(key('undefined'), undefined);
      let calls = 0;
      expect(await cache.getOrSet(key('undefined'), () => ++calls)).toBe(undefined);
      expect(calls).toBe(0);
    }, { skip: suite.capabilities.values === 'v8' ? undefined : `values: '${suite.capabilities.values}' cannot store undefined` });

    suite.test('getOrSet honours its timeout and version', async () => {
      const cache = await suite.cache();
      expect(await cache.getOrSet(key('versioned'), 'v3', undefined, 3)).toBe('v3');
      expect(await cache.get(key('versioned'), undefined, 3)).toBe('v3');
      expect(await cache.hasKey(key('versioned'))).toBe(false);
      // Timeout 0 stores nothing: the default is returned all the same.
      expect(await cache.getOrSet(key('zero'), 'computed', 0)).toBe('computed');
      expect(await cache.hasKey(key('zero'))).toBe(false);
    });

    suite.test('when another writer stores the key first, getOrSet returns what the cache holds', async () => {
      const [cache, rival] = await Promise.all([suite.cache(), suite.createCache({})]);
      const result = await cache.getOrSet(key('raced'), async () => {
        await rival.set(key('raced'), 'rival won');
        return 'mine';
      });
      expect(result).toBe('rival won');
      expect(await cache.get(key('raced'))).toBe('rival won');
    });

    suite.test(`${CONCURRENT_CALLS} concurrent getOrSet calls for one key call the factory once`, async () => {
      const cache = await suite.cache();
      let calls = 0;
      const factory = async (): Promise<string> => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return 'computed once';
      };
      const results = await Promise.all(Array.from({ length: CONCURRENT_CALLS }, () => cache.getOrSet(key('stampede'), factory)));
      expect(results).toEqual(Array.from({ length: CONCURRENT_CALLS }, () => 'computed once'));
      expect(calls).toBe(1);
      expect(await cache.get(key('stampede'))).toBe('computed once');
    });

    suite.test('a failing factory rejects every waiting call, stores nothing and is retried next time', async () => {
      const cache = await suite.cache();
      const failure = new Error('factory failed');
      const failing = async (): Promise<never> => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw failure;
      };
      const outcomes = await Promise.allSettled([cache.getOrSet(key('failing'), failing), cache.getOrSet(key('failing'), failing)]);
      expect(outcomes).toEqual([
        { status: 'rejected', reason: failure },
        { status: 'rejected', reason: failure },
      ]);
      expect(await cache.hasKey(key('failing'))).toBe(false);
      expect(await cache.getOrSet(key('failing'), () => 'recovered')).toBe('recovered');
    });
  });
}
