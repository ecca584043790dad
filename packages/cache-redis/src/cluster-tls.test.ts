import { CacheConnectionError } from '@cachette/cache-core';
import { generateTlsFiles, redisClusterSkipReason, serverSkipReason, startRedisCluster, type RedisClusterNode, type RedisClusterTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCache, type RedisCacheParams } from './index';

const skip = (await redisClusterSkipReason()) ?? (await serverSkipReason('redis', { tls: true }));

const tlsPorts = (nodes: readonly RedisClusterNode[]): number[] => nodes.map(({ tlsPort }) => tlsPort!).sort();
const ports = (addresses: readonly string[]): number[] => addresses.map((address) => Number(address.slice(address.lastIndexOf(':') + 1))).sort();

describe.skipIf(skip)(`RedisCache on a TLS Redis Cluster (rediss+cluster://) of three primaries and three replicas${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  let ca: Buffer;
  const caches: RedisCache[] = [];
  /** The certificate names 127.0.0.1 (and localhost), so the CA is all a node's client needs. */
  const cache = (params: RedisCacheParams = {}): RedisCache => {
    const created = new RedisCache({ location: cluster.url, ...params, options: { tls: { ca }, ...params.options } });
    caches.push(created);
    return created;
  };

  beforeAll(async () => {
    const tls = await generateTlsFiles();
    ca = tls.ca;
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1, tls });
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((created) => created.close()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('learns a slot map that names every node by its TLS port', async () => {
    const redis = cache();
    await redis.cluster!.ready();
    const { shards } = redis.cluster!.slotMap;
    expect(shards).toHaveLength(3);
    expect(ports(shards.map((shard) => shard.primary))).toEqual(tlsPorts(await cluster.primaries()));
    expect(ports(shards.flatMap((shard) => shard.replicas))).toEqual(tlsPorts(await cluster.replicas()));
  });

  it('sets and gets keys on every primary, and splits getMany across slots', async () => {
    const redis = cache({ keyPrefix: 'tls' });
    const entries = Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`k${index}`, { index }]));
    expect(await redis.setMany(entries)).toEqual([]);
    expect(await redis.get('k7')).toEqual({ index: 7 });
    await redis.set('single', 'secure');
    expect(await redis.get('single')).toBe('secure');
    const sizes = await Promise.all((await cluster.primaries()).map(async (primary) => Number(await cluster.command(primary, 'DBSIZE'))));
    for (const size of sizes) expect(size).toBeGreaterThan(50);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(301);
    const wanted = ['k299', 'missing', 'k0', 'k150', 'k3'];
    expect([...(await redis.getMany(wanted)).entries()]).toEqual([['k299', { index: 299 }], ['k0', { index: 0 }], ['k150', { index: 150 }], ['k3', { index: 3 }]]);
    expect((await redis.getMany(Object.keys(entries))).size).toBe(300);
  });

  it('reads from replicas over TLS with readFrom: replica', async () => {
    const redis = cache({ keyPrefix: 'replica', options: { readFrom: 'replica', waitReplicas: 1, waitReplicasTimeout: 10_000 } });
    await Promise.all(Array.from({ length: 30 }, (_, index) => redis.set(`r${index}`, index)));
    const replicas = await cluster.replicas();
    const replicaGets = async (): Promise<number> => {
      const stats = await Promise.all(replicas.map((replica) => cluster.command(replica, 'INFO', 'commandstats')));
      return stats.reduce((sum, text) => sum + Number(/^cmdstat_get:calls=(\d+)/m.exec(text)?.[1] ?? 0), 0);
    };
    const before = await replicaGets();
    expect(await Promise.all(Array.from({ length: 30 }, (_, index) => redis.get(`r${index}`)))).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect((await replicaGets()) - before).toBe(30);
  });

  it('refuses nodes whose certificate it cannot verify, with a connection error', async () => {
    const redis = new RedisCache({ location: cluster.url, options: { connectTimeout: 2_000 } });
    caches.push(redis);
    const failure = redis.get('k');
    await expect(failure).rejects.toBeInstanceOf(CacheConnectionError);
    await expect(failure).rejects.toThrow(/certificate/);
  });
});
