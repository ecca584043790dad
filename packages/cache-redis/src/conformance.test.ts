import { registerConformanceSuite, type Capabilities } from '@cachette/cache-conformance';
import type { CacheParams } from '@cachette/cache-core';
import { redisClusterSkipReason, serverSkipReason, startRedis, startRedisCluster, type RedisClusterTestServer, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache, type RedisCacheOptions } from './index';
import { startReplica } from '../test/replica';

const capabilities: Partial<Capabilities> = {
  atomicIncr: true,
  clearIsGlobal: true,
  culling: false,
  timeoutGranularity: 1,
  values: 'v8',
};

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

type Layout = (servers: RedisTestServer[]) => { location: string[]; options: RedisCacheOptions };

/** Starts the servers of one layout and registers the whole suite against them. */
function conformance(name: string, start: () => Promise<RedisTestServer[]>, layout: Layout, overrides: Partial<Capabilities> = {}): void {
  describe(name, () => {
    let servers: RedisTestServer[] = [];
    beforeAll(async () => {
      servers = await start();
    });
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
    });
    // Raw clients, to count keys behind the cache's back; closed before the servers stop.
    const rawClients = new Map<string, RedisClient>();
    afterAll(() => Promise.all([...rawClients.values()].map((client) => client.close())));
    const rawClient = (url: string): RedisClient => rawClients.get(url) ?? rawClients.set(url, new RedisClient({ url })).get(url)!;
    registerConformanceSuite(api, {
      name,
      createCache: (params: CacheParams) => {
        const { location, options } = layout(servers);
        return new RedisCache({ ...params, location, options: { ...options, ...params.options } });
      },
      capabilities: { ...capabilities, ...overrides },
      storedEntryCount: async () => {
        let keys = 0;
        for (const server of servers) keys += await rawClient(server.url).dbsize();
        return keys;
      },
    });
  });
}

const servers = (count: number) => () => Promise.all(Array.from({ length: count }, () => startRedis()));

async function primaryWithReplica(): Promise<RedisTestServer[]> {
  const primary = await startRedis();
  return [primary, await startReplica(primary)];
}

const skip = await serverSkipReason('redis');
const skipControl = await serverSkipReason('redis', { control: true });

describe.skipIf(skip)(`RedisCache conformance${skip ? ` (skipped: ${skip})` : ''}`, () => {
  conformance('redis single server, RESP2', servers(1), ([server]) => ({ location: [server!.url], options: {} }));
  conformance('redis single server, RESP3', servers(1), ([server]) => ({ location: [server!.url], options: { protocol: 3 } }));
  conformance('redis single server, pickle (django-redis format)', servers(1), ([server]) => ({ location: [server!.url], options: { serializer: 'pickle' } }), { values: 'pickle' });
  conformance('redis sharded ring of three', servers(3), (started) => ({ location: started.map((server) => server.url), options: { sharding: 'consistent' } }));
});

describe.skipIf(skipControl)(`RedisCache conformance with a replica${skipControl ? ` (skipped: ${skipControl})` : ''}`, () => {
  conformance('redis primary with a replica', primaryWithReplica, (started) => ({
    location: started.map((server) => server.url),
    // Reads go to the replica: waiting for it after each write gives read-your-writes. WAIT gives
    // up after its timeout, so it is generous for a loaded machine.
    options: { waitReplicas: 1, waitReplicasTimeout: 10_000 },
  }));
});

const skipCluster = await redisClusterSkipReason();

describe.skipIf(skipCluster)(`RedisCache conformance on Redis Cluster${skipCluster ? ` (skipped: ${skipCluster})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
  });
  afterAll(() => cluster?.stop());
  for (const [name, options] of [
    ['redis cluster, RESP2', {}],
    ['redis cluster, RESP3, reads from replicas', { protocol: 3, readFrom: 'replica', waitReplicas: 1, waitReplicasTimeout: 10_000 }],
  ] as const) {
    describe(name, () => {
      registerConformanceSuite(api, {
        name,
        createCache: (params: CacheParams) => new RedisCache({ ...params, location: cluster.url, options: { ...options, ...params.options } }),
        capabilities,
        // Every write lands on a primary: their DBSIZE, asked over connections of their own.
        storedEntryCount: async () => {
          const sizes = await Promise.all((await cluster.primaries()).map((node) => cluster.command(node, 'DBSIZE')));
          return sizes.reduce((sum, size) => sum + Number(size), 0);
        },
      });
    });
  }
});
