import { warningsOf } from '../expectations';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const CACHES_OPENED = 20;
// What a cache can leave behind: sockets (TLS ones count as TCP) and referenced timers.
const LEAKABLE_RESOURCES = new Set(['TCPSocketWrap', 'TLSWrap', 'PipeWrap', 'Timeout']);
const RELEASE_DEADLINE_MS = 5000;

function openResources(): string[] {
  return process.getActiveResourcesInfo().filter((type) => LEAKABLE_RESOURCES.has(type));
}

/** Waits (sockets close asynchronously) until no more resources are open than `baseline`; returns what is. */
async function resourcesLeftAbove(baseline: number): Promise<string[]> {
  const deadline = Date.now() + RELEASE_DEADLINE_MS;
  while (openResources().length > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return openResources();
}

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
      // Read through caches made now, as another process would: a cache that keeps copies in
      // its process (a tiered cache) learns of the clear from a notice that may still be on its
      // way to the writers above, which that cache's own tests cover.
      const [plainReader, v2Reader] = await Promise.all([suite.createCache({}), suite.createCache({ version: 2 })]);
      expect(await plainReader.hasKey(key('plain'))).toBe(false);
      expect(await v2Reader.hasKey(key('versioned'))).toBe(false);
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

    suite.test(`creating, using and closing ${CACHES_OPENED} caches leaves no socket, timer or listener behind`, async () => {
      await (await suite.cache()).hasKey(key('warm-up'));
      const baseline = openResources().length;
      const warnings = await warningsOf(async () => {
        const caches = await Promise.all(Array.from({ length: CACHES_OPENED }, () => suite.createCache({})));
        await Promise.all(caches.map((cache, index) => cache.set(key(`opened${index}`), index)));
        expect(await caches[CACHES_OPENED - 1]!.get(key('opened0'))).toBe(0);
        await Promise.all(caches.map((cache) => cache.close()));
      });
      expect(warnings).toEqual([]);
      const left = await resourcesLeftAbove(baseline);
      expect(left.length > baseline ? { openBefore: baseline, openAfterClose: left } : 'released').toEqual('released');
    });
  });
}
