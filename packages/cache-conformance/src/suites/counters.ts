import { KeyNotFoundError, NonNumericValueError } from '@cachette/cache-core';
import { expectRejection } from '../expectations';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const CONCURRENT_CALLERS = 4;
const INCREMENTS_PER_CALLER = 25;

/** incr and decr: arithmetic, missing keys, values that are not integers, expiry, atomicity. */
type CounterStep = [method: 'incr' | 'decr', delta: number | undefined, expected: number];

export function registerCounterTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'counters', (suite) => {
    const { expect, key } = suite;

    /** Stores `start`, then applies each step, checking both the value returned and the value stored. */
    const expectCounterSteps = async (start: number, steps: CounterStep[]) => {
      const cache = await suite.cache();
      await cache.set(key('counter'), start);
      for (const [method, delta, expected] of steps) {
        expect([method, delta, await cache[method](key('counter'), delta)]).toEqual([method, delta, expected]);
        expect(await cache.get(key('counter'))).toBe(expected);
      }
    };

    suite.test('incr adds 1 or the delta given and returns the new value', async () => {
      await expectCounterSteps(41, [
        ['incr', undefined, 42],
        ['incr', 10, 52],
        ['incr', -10, 42],
      ]);
    });

    suite.test('decr subtracts 1 or the delta given and returns the new value', async () => {
      await expectCounterSteps(43, [
        ['decr', undefined, 42],
        ['decr', 10, 32],
        ['decr', -10, 42],
      ]);
    });

    // Django's memcached backends stop at zero (memcached's own counters do); every other backend
    // goes negative. The capability says which rule the backend follows, and the test holds it to it.
    suite.test('below zero, counters go negative or stop at 0 as capabilities.counters declares', async () => {
      const steps: CounterStep[] = suite.capabilities.counters === 'signed'
        ? [['decr', 3, -2], ['incr', -5, -7]]
        : [['decr', 3, 0], ['incr', -5, 0], ['incr', 2, 2]];
      await expectCounterSteps(1, steps);
    });

    suite.test('incr and decr of a missing key reject with KeyNotFoundError and create nothing', async () => {
      const cache = await suite.cache();
      await expectRejection(suite, cache.incr(key('does_not_exist')), KeyNotFoundError);
      await expectRejection(suite, cache.incr(key('does_not_exist'), -1), KeyNotFoundError);
      await expectRejection(suite, cache.decr(key('does_not_exist')), KeyNotFoundError);
      await expectRejection(suite, cache.decr(key('does_not_exist'), -1), KeyNotFoundError);
      expect(await cache.hasKey(key('does_not_exist'))).toBe(false);
    });

    const nonNumbers: Array<[string, unknown]> = [
      ['null', null],
      ['a string', 'abc'],
      ['a float', 1.5],
      ['an object', { count: 1 }],
    ];
    for (const [label, value] of nonNumbers) {
      suite.test(`incr and decr of ${label} reject with NonNumericValueError and keep the value`, async () => {
        const cache = await suite.cache();
        await cache.set(key('value'), value);
        await expectRejection(suite, cache.incr(key('value')), NonNumericValueError);
        await expectRejection(suite, cache.decr(key('value')), NonNumericValueError);
        expect(await cache.get(key('value'))).toEqual(value);
      });
    }

    suite.test('a delta that is not a safe integer rejects with TypeError and keeps the value', async () => {
      const cache = await suite.cache();
      await cache.set(key('count'), 1);
      await expectRejection(suite, cache.incr(key('count'), 0.5), TypeError);
      await expectRejection(suite, cache.decr(key('count'), Number.NaN), TypeError);
      expect(await cache.get(key('count'))).toBe(1);
    });

    suite.test('incr and decr past the safe integer range reject with NonNumericValueError and keep the value', async () => {
      const cache = await suite.cache();
      await cache.set(key('largest'), Number.MAX_SAFE_INTEGER);
      await cache.set(key('smallest'), Number.MIN_SAFE_INTEGER);
      await expectRejection(suite, cache.incr(key('largest')), NonNumericValueError, undefined, 'incr of the largest safe integer');
      await expectRejection(suite, cache.decr(key('smallest')), NonNumericValueError, undefined, 'decr of the smallest safe integer');
      expect(await cache.getMany([key('largest'), key('smallest')])).toEqual(
        new Map([[key('largest'), Number.MAX_SAFE_INTEGER], [key('smallest'), Number.MIN_SAFE_INTEGER]]),
      );
    });

    suite.test('incr keeps the expiry: a key with a timeout still expires after incr', async () => {
      const cache = await suite.cache();
      await cache.hasKey(key('warm-up'));
      // Two ticks, so that the key is surely there to be incremented (a one-second memcached
      // entry is gone at the server clock's next tick), and surely gone by 2.5.
      await cache.set(key('expiring'), 1, suite.seconds(2));
      await cache.set(key('lasting'), 1, suite.seconds(60));
      expect(await cache.incr(key('expiring'))).toBe(2);
      expect(await cache.decr(key('lasting'))).toBe(0);
      await suite.sleep(2.5);
      expect(await cache.get(key('expiring'))).toBe(undefined);
      expect(await cache.get(key('lasting'))).toBe(0);
    }, { sleepUnits: 2.5 });

    suite.test(`concurrent incr from ${CONCURRENT_CALLERS} caches loses no update`, async () => {
      const callers = await Promise.all(Array.from({ length: CONCURRENT_CALLERS }, () => suite.createCache({})));
      await callers[0]!.set(key('counter'), 0);
      const results = await Promise.all(
        callers.flatMap((cache) => Array.from({ length: INCREMENTS_PER_CALLER }, () => cache.incr(key('counter')))),
      );
      const total = CONCURRENT_CALLERS * INCREMENTS_PER_CALLER;
      expect(await callers[0]!.get(key('counter'))).toBe(total);
      // Each caller saw a distinct intermediate value: no two increments read the same value.
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    }, { skip: suite.capabilities.atomicIncr ? undefined : 'capabilities.atomicIncr is false: incr is read-modify-write' });
  });
}
