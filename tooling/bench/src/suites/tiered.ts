import { LocMemCache } from '@cachette/cache-locmem';
import { RedisCache } from '@cachette/cache-redis';
import { TieredCache } from '@cachette/cache-tiered';
import { serverSkipReason, startRedis } from '@cachette/test-servers';
import { defineSuite } from '../harness';
import { IN_FLIGHT, benchKeys, cacheContender, candidates, getEachKey, getManyEachBatch, type Contender } from '../key-value-workload';

const smallValue = 'v'.repeat(100);

export default defineSuite({
  description: 'TieredCache (locmem over Redis, key tracking) against plain RedisCache and LocMemCache, on one local Redis',
  async setup() {
    const skip = await serverSkipReason('redis');
    if (skip) return { skipped: skip };
    const server = await startRedis();
    const tiered = new TieredCache({ options: { shared: { backend: RedisCache, location: server.url }, local: { maxEntries: benchKeys.length * 4 } } });
    const redis = new RedisCache({ location: server.url });
    const locmem = new LocMemCache({ location: 'bench-tiered-locmem', options: { maxEntries: benchKeys.length * 4 } });
    for (const key of benchKeys) {
      await tiered.set(key, smallValue, null);
      // A read fills the local tier (writes drop it under key tracking): every timed read is a local hit.
      await tiered.get(key);
      await locmem.set(key, smallValue, null);
    }
    const contenders: Array<Contender<string>> = [cacheContender('tiered', tiered), cacheContender('locmem', locmem), cacheContender('redis', redis)];
    return {
      cases: [
        {
          name: 'get 100 B hit, one at a time',
          baseline: 'locmem',
          // A local hit within 2× of a locmem hit.
          target: { candidate: 'tiered', minRatio: 0.5 },
          candidates: candidates(contenders, getEachKey),
        },
        {
          name: `get 100 B hit, ${IN_FLIGHT} in flight`,
          baseline: 'redis',
          concurrency: IN_FLIGHT,
          candidates: candidates(contenders, getEachKey),
        },
        { name: 'getMany of 100 hits', baseline: 'locmem', candidates: candidates(contenders, getManyEachBatch) },
      ],
      async teardown() {
        await Promise.all([tiered.close(), redis.close(), locmem.close()]);
        await server.stop();
      },
    };
  },
});
