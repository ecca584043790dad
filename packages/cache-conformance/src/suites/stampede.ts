import { operationChannel, type OperationContext } from '@cachette/cache-core';
import { registerTopic } from '../suite-context';
import type { ConformanceTarget, TestApi } from '../test-api';

const CALLERS = 200;

/** A factory that counts its runs and answers after `delayMs`. */
function countingFactory<T>(value: T, delayMs = 30): (() => Promise<T>) & { runs: number } {
  const factory = Object.assign(
    async (): Promise<T> => {
      factory.runs++;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return value;
    },
    { runs: 0 },
  );
  return factory;
}

/** Polls `read` until it gives `expected` or `limitMs` passes; returns the last reading. */
async function eventually(read: () => Promise<unknown>, expected: unknown, limitMs: number): Promise<unknown> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (value === expected || Date.now() > giveUpAt) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** getOrSet's stampede protection (`lock`, `staleWhileRevalidate`, `jitter`) and the observation of operations. */
export function registerStampedeTests(api: TestApi, target: ConformanceTarget): void {
  registerTopic(api, target, 'stampede', (suite) => {
    const { expect, key } = suite;

    suite.test(`${CALLERS} concurrent getOrSet calls with a lock run the factory once`, async () => {
      const cache = await suite.cache();
      const factory = countingFactory('once');
      const values = await Promise.all(Array.from({ length: CALLERS }, () => cache.getOrSet(key('hot'), factory, 60, undefined, { lock: true })));
      expect(factory.runs).toBe(1);
      expect(values.every((value) => value === 'once')).toBe(true);
      expect(await cache.get(key('hot'))).toBe('once');
    });

    suite.test('with a lock, callers of two caches over one store wait for one computation', async () => {
      const [cache, other] = await Promise.all([suite.cache(), suite.createCache({})]);
      const factory = countingFactory('shared', 100);
      const callers = [cache, other].flatMap((instance) =>
        Array.from({ length: 25 }, () => instance.getOrSet(key('contended'), factory, 60, undefined, { lock: { ttl: 10, wait: 10 } })),
      );
      const values = await Promise.all(callers);
      expect(factory.runs).toBe(1);
      expect(values.every((value) => value === 'shared')).toBe(true);
    });

    suite.test('a failing factory under a lock rejects its callers, stores nothing and frees the lock', async () => {
      const cache = await suite.cache();
      const failure = new Error('factory failed');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          cache.getOrSet(
            key('failing'),
            async () => {
              throw failure;
            },
            60,
            undefined,
            { lock: true },
          ),
        ),
      );
      expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason === failure)).toBe(true);
      expect(await cache.hasKey(key('failing'))).toBe(false);
      // The lock is free again: the next caller computes at once (a held lock would make it wait 10 s).
      const started = Date.now();
      expect(await cache.getOrSet(key('failing'), () => 'recovered', 60, undefined, { lock: { ttl: 10, wait: 10 } })).toBe('recovered');
      expect(Date.now() - started < 5000).toBe(true);
    });

    suite.test('staleWhileRevalidate serves the stale value past the timeout and refreshes it once', async () => {
      const cache = await suite.cache();
      const options = { staleWhileRevalidate: suite.seconds(20) };
      let version = 0;
      let runs = 0;
      const factory = async (): Promise<string> => {
        runs++;
        return `v${++version}`;
      };
      expect(await cache.getOrSet(key('swr'), factory, suite.seconds(1), undefined, options)).toBe('v1');
      await suite.sleep(1.5);
      const stale = await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet(key('swr'), factory, suite.seconds(1), undefined, options)));
      expect(stale.every((value) => value === 'v1')).toBe(true);
      expect(await eventually(() => cache.get(key('swr')), 'v2', 5000)).toBe('v2');
      expect(runs).toBe(2);
    }, { sleepUnits: 1.5 });

    suite.test('operations are published on cachette:operation and counted with stats: true', async () => {
      const counted = await suite.createCache({ stats: true });
      const settled: OperationContext[] = [];
      const record = (context: OperationContext) => {
        if (context.cache === counted && context.duration !== undefined) settled.push(context);
      };
      const ignore = (): void => {};
      const handlers = { start: ignore, end: record, asyncStart: ignore, asyncEnd: record, error: ignore };
      operationChannel.subscribe(handlers);
      try {
        await counted.set(key('observed'), 'value');
        await counted.get(key('observed'));
        await counted.get(key('unobserved'));
      } finally {
        operationChannel.unsubscribe(handlers);
      }
      const gets = settled.filter((context) => context.operation === 'get').map(({ key: name, hits, misses }) => ({ name, hits, misses }));
      expect(gets).toEqual([
        { name: key('observed'), hits: 1, misses: 0 },
        { name: key('unobserved'), hits: 0, misses: 1 },
      ]);
      const stats = counted.stats();
      expect([stats.enabled, stats.hits, stats.misses, stats.sets]).toEqual([true, 1, 1, 1]);
    });

    suite.test('jitter spreads the expiries of keys written together', async () => {
      const cache = await suite.cache();
      const names = Array.from({ length: 40 }, (_, index) => key(`jittered${index}`));
      for (const name of names) await cache.getOrSet(name, 'value', suite.seconds(8), undefined, { jitter: 0.75 });
      // Each timeout is in [2, 8] units; after 5 (room for a clock in whole seconds, as
      // memcached's), some have expired and some not.
      await suite.sleep(5);
      const alive = (await cache.getMany(names)).size;
      expect(alive > 0 && alive < names.length).toBe(true);
    }, { sleepUnits: 5 });
  });
}
