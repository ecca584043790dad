import { registerConformanceSuite, type Capabilities } from '@cachette/cache-conformance';
import type { CacheParams } from '@cachette/cache-core';
import { RedisCache } from '@cachette/cache-redis';
import { redisClusterSkipReason, serverSkipReason, startRedis, startRedisCluster, type RedisClusterTestServer, type TestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TieredCache, type TieredCacheOptions } from './index';

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

// The shared tier's capabilities: counters, clear and expiry are Redis's.
const capabilities: Partial<Capabilities> = { atomicIncr: true, clearIsGlobal: true, culling: false, timeoutGranularity: 1, values: 'v8' };

/** The suite on TieredCaches over Redis at `location()`, each with its own local tier. */
function conformance(name: string, location: () => string | string[], options: Partial<TieredCacheOptions> = {}, sharedOptions: object = {}): void {
  describe(name, () => {
    const created: TieredCache[] = [];
    // A cache of its own, not a tier, counts the shared keys: DBSIZE summed over the primaries.
    let sharedCounter: RedisCache | undefined;
    afterAll(() => sharedCounter?.close());
    registerConformanceSuite(api, {
      name,
      createCache: (params: CacheParams) => {
        const cache = new TieredCache({ ...params, options: { shared: { backend: RedisCache, location: location(), options: sharedOptions }, local: params.options, ...options } });
        created.push(cache);
        return cache;
      },
      capabilities,
      // Both tiers: the shared store's keys and every local copy any cache of the suite holds.
      storedEntryCount: async () => {
        sharedCounter ??= new RedisCache({ location: location(), options: sharedOptions });
        const counts = await Promise.all([sharedCounter, ...created.map((cache) => cache.localCache)].map((cache) => cache.storeStats()));
        return counts.reduce((sum, { entries }) => sum + Number(entries), 0);
      },
    });
  });
}

const skip = await serverSkipReason('redis');

describe.skipIf(skip)(`TieredCache conformance over Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    servers.push(...(await Promise.all([startRedis(), startRedis(), startRedis()])));
  });
  afterAll(() => Promise.all(servers.map((server) => server.stop())));
  conformance('tiered over one Redis, key tracking', () => servers[0]!.url);
  conformance('tiered over one Redis, broadcast', () => servers[0]!.url, { invalidation: 'broadcast' });
  conformance('tiered over a sharded ring of two', () => [servers[1]!.url, servers[2]!.url], {}, { sharding: 'consistent' });
});

const skipCluster = await redisClusterSkipReason();

describe.skipIf(skipCluster)(`TieredCache conformance over Redis Cluster${skipCluster ? ` (skipped: ${skipCluster})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  });
  afterAll(() => cluster?.stop());
  conformance('tiered over Redis Cluster', () => cluster.url);
});
