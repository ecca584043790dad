import type { BaseCache } from '@cachette/cache-core';
import { expectRejection } from '../expectations';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const THIRTY_DAYS_AND_ONE_SECOND = 60 * 60 * 24 * 30 + 1;

/**
 * Expiry: defaults, null (never), 0 and negative (not stored), floats, long timeouts and touch.
 * Timeouts are whole ticks of the backend's clock; a key is checked gone 1.5 ticks after it
 * expired and present at least 1.5 ticks before it expires.
 */
export function registerTimeoutTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'timeouts', (suite) => {
    const { expect, key } = suite;
    const warmedCache = async (): Promise<BaseCache> => {
      const cache = await suite.cache();
      await cache.hasKey(key('warm-up')); // connect before the clock starts
      return cache;
    };

    suite.test('an expired key is gone: get misses, hasKey is false and add stores again', async () => {
      const cache = await warmedCache();
      await cache.set(key('expire1'), 'very quickly', suite.seconds(1));
      await cache.set(key('expire2'), 'very quickly', suite.seconds(1));
      expect(await cache.add(key('expire3'), 'very quickly', suite.seconds(1))).toBe(true);
      await suite.sleep(2.5);
      expect(await cache.get(key('expire1'))).toBe(undefined);
      expect(await cache.getMany([key('expire1'), key('expire3')])).toEqual(new Map());
      expect(await cache.add(key('expire2'), 'newvalue')).toBe(true);
      expect(await cache.get(key('expire2'))).toBe('newvalue');
      expect(await cache.hasKey(key('expire3'))).toBe(false);
    }, { sleepUnits: 2.5 });

    suite.test("the cache's default timeout applies when none is given", async () => {
      const [shortLived, neverExpiring] = await Promise.all([
        suite.createCache({ timeout: suite.seconds(1) }),
        suite.createCache({ timeout: null }),
      ]);
      await shortLived.hasKey(key('warm-up'));
      await neverExpiring.hasKey(key('warm-up'));
      await shortLived.set(key('short'), 'value');
      await neverExpiring.set(key('never'), 'value');
      await suite.sleep(2.5);
      expect(await shortLived.get(key('short'))).toBe(undefined);
      expect(await neverExpiring.get(key('never'))).toBe('value');
    }, { sleepUnits: 2.5 });

    suite.test('set replaces the expiry of the value it overwrites', async () => {
      const cache = await warmedCache();
      await cache.set(key('key'), 'short', suite.seconds(1));
      await cache.set(key('key'), 'default timeout');
      await suite.sleep(2.5);
      expect(await cache.get(key('key'))).toBe('default timeout');
    }, { sleepUnits: 2.5 });

    suite.test('touch sets a new expiry counted from now, or the default one', async () => {
      const cache = await warmedCache();
      // Two ticks, so that each key is surely there to be touched: memcached counts whole
      // seconds, and a one-second entry is gone at its clock's next tick, which may be at once.
      // Without the touch both would be gone by 2.5.
      await cache.set(key('extended'), 'value', suite.seconds(2));
      await cache.set(key('defaulted'), 'value', suite.seconds(2));
      // Five ticks, checked at 2.5 and 7.5: a server clock that lags by up to a tick (memcached
      // counts whole seconds) still leaves more than a tick either side on a loaded machine.
      expect(await cache.touch(key('extended'), suite.seconds(5))).toBe(true);
      expect(await cache.touch(key('defaulted'))).toBe(true);
      await suite.sleep(2.5);
      expect(await cache.get(key('extended'))).toBe('value');
      expect(await cache.get(key('defaulted'))).toBe('value');
      await suite.sleep(5);
      expect(await cache.get(key('extended'))).toBe(undefined);
      expect(await cache.get(key('defaulted'))).toBe('value');
    }, { sleepUnits: 7.5 });

    suite.test('touch of a missing key returns false and creates nothing', async () => {
      const cache = await suite.cache();
      expect(await cache.touch(key('missing'))).toBe(false);
      expect(await cache.hasKey(key('missing'))).toBe(false);
    });

    const revives = suite.capabilities.touchRevivesExpired;
    suite.test(revives ? 'touch of an expired key revives it' : 'touch of an expired key returns false and does not revive it', async () => {
      const cache = await warmedCache();
      await cache.set(key('expired'), 'value', suite.seconds(1));
      await suite.sleep(2.5);
      expect(await cache.touch(key('expired'), suite.seconds(60))).toBe(revives);
      expect(await cache.get(key('expired'))).toBe(revives ? 'value' : undefined);
    }, { sleepUnits: 2.5 });

    suite.test('a timeout of 30 days and one second keeps the value (not read as an absolute time)', async () => {
      const cache = await suite.cache();
      await cache.set(key('key1'), 'eggs', THIRTY_DAYS_AND_ONE_SECOND);
      expect(await cache.get(key('key1'))).toBe('eggs');
      expect(await cache.add(key('key2'), 'ham', THIRTY_DAYS_AND_ONE_SECOND)).toBe(true);
      expect(await cache.get(key('key2'))).toBe('ham');
      await cache.setMany({ [key('key3')]: 'sausage', [key('key4')]: 'lobster bisque' }, THIRTY_DAYS_AND_ONE_SECOND);
      expect(await cache.get(key('key3'))).toBe('sausage');
      expect(await cache.get(key('key4'))).toBe('lobster bisque');
      expect(await cache.touch(key('key1'), THIRTY_DAYS_AND_ONE_SECOND)).toBe(true);
      expect(await cache.get(key('key1'))).toBe('eggs');
    });

    suite.test('a null or infinite timeout never expires, through set, add, setMany and touch', async () => {
      const cache = await warmedCache();
      await cache.set(key('key1'), 'eggs', null);
      expect(await cache.get(key('key1'))).toBe('eggs');
      expect(await cache.add(key('key2'), 'ham', null)).toBe(true);
      expect(await cache.get(key('key2'))).toBe('ham');
      expect(await cache.add(key('key1'), 'new eggs', null)).toBe(false);
      expect(await cache.get(key('key1'))).toBe('eggs');
      await cache.setMany({ [key('key3')]: 'sausage', [key('key4')]: 'lobster bisque' }, null);
      expect(await cache.get(key('key3'))).toBe('sausage');
      expect(await cache.get(key('key4'))).toBe('lobster bisque');
      // Two ticks: surely there to be touched (see above), surely gone by 2.5 without the touch.
      await cache.set(key('key5'), 'belgian fries', suite.seconds(2));
      expect(await cache.touch(key('key5'), null)).toBe(true);
      await cache.set(key('key6'), 'infinite', Number.POSITIVE_INFINITY);
      await suite.sleep(2.5);
      expect(await cache.get(key('key5'))).toBe('belgian fries');
      expect(await cache.get(key('key6'))).toBe('infinite');
    }, { sleepUnits: 2.5 });

    suite.test('a zero timeout stores nothing: set, add (which still returns true), setMany and touch', async () => {
      const cache = await suite.cache();
      await cache.set(key('key1'), 'eggs', 0);
      expect(await cache.get(key('key1'))).toBe(undefined);
      expect(await cache.add(key('key2'), 'ham', 0)).toBe(true);
      expect(await cache.get(key('key2'))).toBe(undefined);
      await cache.setMany({ [key('key3')]: 'sausage', [key('key4')]: 'lobster bisque' }, 0);
      expect(await cache.getMany([key('key3'), key('key4')])).toEqual(new Map());
      await cache.set(key('key5'), 'belgian fries', suite.seconds(60));
      expect(await cache.touch(key('key5'), 0)).toBe(true);
      expect(await cache.get(key('key5'))).toBe(undefined);
    });

    suite.test('a negative timeout stores nothing and removes the value it overwrites', async () => {
      const cache = await suite.cache();
      await cache.set(key('key1'), 'eggs', -1);
      expect(await cache.hasKey(key('key1'))).toBe(false);
      await cache.set(key('key2'), 'ham');
      await cache.set(key('key2'), 'new ham', -suite.seconds(10));
      expect(await cache.get(key('key2'))).toBe(undefined);
      expect(await cache.add(key('key3'), 'sausage', -1)).toBe(true);
      expect(await cache.get(key('key3'))).toBe(undefined);
    });

    suite.test('a timeout that is not a number rejects with TypeError and stores nothing', async () => {
      const cache = await suite.cache();
      for (const timeout of ['10', Number.NaN, {}]) {
        await expectRejection(suite, cache.set(key('key1'), 'spam', timeout as number), TypeError, undefined, `set with timeout ${String(timeout)}`);
        await expectRejection(suite, cache.add(key('key1'), 'spam', timeout as number), TypeError, undefined, `add with timeout ${String(timeout)}`);
      }
      expect(await cache.hasKey(key('key1'))).toBe(false);
    });

    suite.test('a fractional timeout is accepted', async () => {
      const cache = await suite.cache();
      await cache.set(key('key1'), 'spam', 100.2);
      expect(await cache.get(key('key1'))).toBe('spam');
      expect(await cache.add(key('key2'), 'eggs', 100.2)).toBe(true);
      expect(await cache.touch(key('key2'), 100.2)).toBe(true);
      expect(await cache.get(key('key2'))).toBe('eggs');
    });
  });
}
