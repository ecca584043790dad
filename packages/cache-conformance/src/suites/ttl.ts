import { NotSupportedError, type BaseCache } from '@cachette/cache-core';
import { expectRejection } from '../expectations';
import { registerTopic, type SuiteContext } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const TIMEOUT = 10;
const TOUCHED_TIMEOUT = 100;

/**
 * Checks `ttl` gave seconds within `(timeout − 1.5 ticks, timeout]`: a backend counting whole
 * seconds may answer the full timeout, and no call here takes more than a tick. `label` names the
 * case in a failure, beside what `ttl` answered.
 */
function expectTimeLeft(suite: SuiteContext, label: string, left: number | null | undefined, timeout: number): void {
  const within = typeof left === 'number' && left > timeout - suite.seconds(1.5) && left <= timeout;
  suite.expect([label, within ? 'within the timeout' : left]).toEqual([label, 'within the timeout']);
}

/** Every `ttl` test, for a backend that reads expiries. */
function registerSupportedTtlTests(suite: SuiteContext): void {
  const { expect, key } = suite;
  const warmedCache = async (): Promise<BaseCache> => {
    const cache = await suite.cache();
    await cache.hasKey(key('warm-up')); // connect before the clock starts
    return cache;
  };

  suite.test(`ttl of a key stored for ${TIMEOUT} s is the seconds it has left, by set, add and setMany`, async () => {
    const cache = await warmedCache();
    await cache.set(key('set'), 'value', TIMEOUT);
    expect(await cache.add(key('added'), 'value', TIMEOUT)).toBe(true);
    await cache.setMany({ [key('many')]: 'value' }, TIMEOUT);
    expectTimeLeft(suite, 'set', await cache.ttl(key('set')), TIMEOUT);
    expectTimeLeft(suite, 'add', await cache.ttl(key('added')), TIMEOUT);
    expectTimeLeft(suite, 'setMany', await cache.ttl(key('many')), TIMEOUT);
  });

  suite.test('ttl of a key that never expires is null: timeout null or Infinity, or touch with null', async () => {
    const cache = await suite.cache();
    await cache.set(key('null'), 'value', null);
    await cache.set(key('infinite'), 'value', Number.POSITIVE_INFINITY);
    await cache.set(key('touched'), 'value', TIMEOUT);
    expect(await cache.touch(key('touched'), null)).toBe(true);
    expect(await cache.ttl(key('null'))).toBe(null);
    expect(await cache.ttl(key('infinite'))).toBe(null);
    expect(await cache.ttl(key('touched'))).toBe(null);
  });

  suite.test('ttl of a missing, deleted or never stored (timeout 0) key is undefined', async () => {
    const cache = await suite.cache();
    await cache.set(key('deleted'), 'value', null);
    await cache.delete(key('deleted'));
    await cache.set(key('zero'), 'value', 0);
    expect(await cache.ttl(key('missing'))).toBe(undefined);
    expect(await cache.ttl(key('deleted'))).toBe(undefined);
    expect(await cache.ttl(key('zero'))).toBe(undefined);
  });

  suite.test('ttl of an expired key is undefined', async () => {
    const cache = await warmedCache();
    await cache.set(key('expired'), 'value', suite.seconds(1));
    await suite.sleep(2.5);
    expect(await cache.ttl(key('expired'))).toBe(undefined);
  }, { sleepUnits: 2.5 });

  suite.test(`ttl after touch(key, ${TOUCHED_TIMEOUT}) counts from the new expiry`, async () => {
    const cache = await warmedCache();
    await cache.set(key('touched'), 'value', TIMEOUT);
    expect(await cache.touch(key('touched'), TOUCHED_TIMEOUT)).toBe(true);
    expectTimeLeft(suite, 'after touch', await cache.ttl(key('touched')), TOUCHED_TIMEOUT);
  });

  suite.test('ttl reads only the version it addresses', async () => {
    const cache = await warmedCache();
    const v2 = await suite.cache('v2');
    await cache.set(key('versioned'), 'one', TIMEOUT);
    await cache.set(key('versioned'), 'two', null, 2);
    expectTimeLeft(suite, 'version 1', await cache.ttl(key('versioned')), TIMEOUT);
    expect(await cache.ttl(key('versioned'), 2)).toBe(null);
    expect(await v2.ttl(key('versioned'))).toBe(null);
    expect(await cache.ttl(key('versioned'), 3)).toBe(undefined);
  });
}

/** `ttl`: the seconds a key has left, `null` for never, `undefined` for missing or expired keys. */
export function registerTtlTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'ttl', (suite) => {
    if (suite.capabilities.ttl) return registerSupportedTtlTests(suite);
    suite.test('ttl rejects with NotSupportedError (capabilities.ttl is false) and changes nothing', async () => {
      const cache = await suite.cache();
      await cache.set(suite.key('stored'), 'value', null);
      await expectRejection(suite, cache.ttl(suite.key('stored')), NotSupportedError, undefined, 'ttl of a stored key');
      await expectRejection(suite, cache.ttl(suite.key('missing')), NotSupportedError, undefined, 'ttl of a missing key');
      suite.expect(await cache.get(suite.key('stored'))).toBe('value');
    });
  });
}
