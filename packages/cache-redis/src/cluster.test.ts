import { CacheConnectionError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { redisClusterSkipReason, seededRandom, startRedisCluster, type RedisClusterTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { keySlot } from './cluster/slots';
import { parseInfo } from './commands';
import { RedisCache, type RedisCacheParams } from './index';

const skip = await redisClusterSkipReason();

/**
 * A node's counters: how many times each command ran (`INFO commandstats`) and all of them
 * together, and socket reads (`INFO stats`).
 */
async function counters(client: RedisClient): Promise<{ calls(command: string): number; allCalls: number; reads: number }> {
  const info = parseInfo(await client.info('all'));
  const callsOf = (stats: string | undefined) => Number(/calls=(\d+)/.exec(stats ?? '')?.[1] ?? 0);
  let allCalls = 0;
  for (const [field, stats] of info) if (field.startsWith('cmdstat_')) allCalls += callsOf(stats);
  return { calls: (command) => callsOf(info.get(`cmdstat_${command}`)), allCalls, reads: Number(info.get('total_reads_processed') ?? 0) };
}

/** Tags whose keys land on each of the given primaries, one tag per primary. */
function tagsOnEachPrimary(cache: RedisCache, primaries: readonly string[]): string[] {
  const tags = new Map<string, string>();
  for (let index = 0; tags.size < primaries.length; index++) {
    const tag = `t${index}`;
    const owner = cache.cluster!.slotMap.shardOf(keySlot(tag))!.primary;
    if (!tags.has(owner)) tags.set(owner, tag);
  }
  return primaries.map((address) => tags.get(address)!);
}

describe.skipIf(skip)(`RedisCache on a Redis Cluster of three primaries and three replicas${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  const nodeClients = new Map<string, RedisClient>();
  const caches: RedisCache[] = [];
  const node = (address: string): RedisClient => {
    if (!nodeClients.has(address)) nodeClients.set(address, new RedisClient(`redis://${address}`));
    return nodeClients.get(address)!;
  };
  const cache = (params: RedisCacheParams = {}): RedisCache => {
    const created = new RedisCache({ location: cluster.url, ...params });
    caches.push(created);
    return created;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((created) => created.close()));
  });
  afterAll(async () => {
    await Promise.all([...nodeClients.values()].map((client) => client.close()));
    await cluster?.stop();
  });

  it('computes the slot of every key as the cluster does (CLUSTER KEYSLOT), tags and non-ASCII included', async () => {
    const random = seededRandom(11);
    const alphabet = ['a', 'b', 'z', '0', ':', '{', '}', '{}', 'é', 'ключ', '🔑', ' '];
    const keys = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    const client = node(cluster.seeds[0]!);
    const slots = await Promise.all(keys.map((key) => client.call('CLUSTER', 'KEYSLOT', key)));
    expect(keys.map(keySlot)).toEqual(slots);
  });

  it('is configured by a redis+cluster:// URL and spreads keys over every primary', async () => {
    registerCacheScheme('redis+cluster', RedisCache);
    const fromUrl = (await createCache(`${cluster.url}?key_prefix=url`)) as RedisCache;
    caches.push(fromUrl);
    await Promise.all(Array.from({ length: 300 }, (_, index) => fromUrl.set(`key${index}`, index)));
    expect(await fromUrl.get('key7')).toBe(7);
    const primaries = await cluster.primaries();
    expect(primaries).toHaveLength(3);
    const sizes = await Promise.all(primaries.map((primary) => node(`${primary.host}:${primary.port}`).dbsize()));
    for (const size of sizes) expect(size).toBeGreaterThan(50);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(300);
  });

  it('takes its seed nodes from options.cluster.nodes too, and needs only one', async () => {
    const redis = new RedisCache({ options: { cluster: { nodes: [cluster.seeds[4]!], refreshInterval: 50 } } });
    caches.push(redis);
    await redis.set('seeded', 'yes');
    expect(await redis.get('seeded')).toBe('yes');
    expect(redis.cluster!.slotMap.shards).toHaveLength(3);
  });

  it('splits getMany, setMany and deleteMany by slot and keeps the caller order', async () => {
    const redis = cache({ keyPrefix: 'many' });
    const entries = Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`k${index}`, { index }]));
    expect(await redis.setMany(entries)).toEqual([]);
    const wanted = ['k199', 'missing', 'k0', 'k57', 'k3'];
    expect([...(await redis.getMany(wanted)).entries()]).toEqual([['k199', { index: 199 }], ['k0', { index: 0 }], ['k57', { index: 57 }], ['k3', { index: 3 }]]);
    await redis.deleteMany(Object.keys(entries).slice(0, 100));
    expect((await redis.getMany(Object.keys(entries))).size).toBe(100);
  });

  it('sends hash-tagged keys of one node in one round trip: one MGET per slot, one read per node', async () => {
    const redis = cache({ keyPrefix: 'tags' });
    await redis.cluster!.ready();
    const primaries = redis.cluster!.slotMap.shards.map((shard) => shard.primary);
    const tags = tagsOnEachPrimary(redis, primaries);
    const keys = tags.flatMap((tag) => Array.from({ length: 20 }, (_, index) => `{${tag}}:${index}`));
    await redis.setMany(Object.fromEntries(keys.map((key) => [key, key])));
    const before = await Promise.all(primaries.map((address) => counters(node(address))));
    const found = await redis.getMany(keys);
    const after = await Promise.all(primaries.map((address) => counters(node(address))));
    expect(found.size).toBe(60);
    primaries.forEach((_, index) => {
      const [was, is] = [before[index]!, after[index]!];
      expect(is.calls('mget') - was.calls('mget')).toBe(1);
      // One read for our MGET, one for the second INFO itself, and at most one for each command
      // nobody here sent: the node's replica acknowledges its offset (REPLCONF ACK) every second.
      const elsewhere = is.allCalls - was.allCalls - (is.calls('mget') - was.calls('mget')) - (is.calls('info') - was.calls('info'));
      expect(is.reads - was.reads - elsewhere).toBeLessThanOrEqual(2);
      expect(is.reads - was.reads).toBeGreaterThanOrEqual(2);
    });
  });

  it('clears every primary, and scans every primary for iterKeys and deletePattern', async () => {
    const redis = cache({ keyPrefix: 'scan' });
    await redis.setMany(Object.fromEntries(Array.from({ length: 90 }, (_, index) => [`session:${index}`, index])));
    await redis.set('other', 1);
    const listed: string[] = [];
    for await (const key of redis.iterKeys('session:*')) listed.push(key);
    expect(listed.sort()).toEqual(Array.from({ length: 90 }, (_, index) => `session:${index}`).sort());
    expect(await redis.deletePattern('session:*')).toBe(90);
    expect(await redis.get('other')).toBe(1);
    await redis.clear();
    const sizes = await Promise.all((await cluster.primaries()).map((primary) => node(`${primary.host}:${primary.port}`).dbsize()));
    expect(sizes).toEqual([0, 0, 0]);
  });

  it('routes locks, scripts and counters by their key', async () => {
    const redis = cache({ keyPrefix: 'lock' });
    const lock = redis.lock('job', { timeout: 5 });
    expect(await lock.acquire({ blocking: false })).toBe(true);
    expect(await redis.lock('job').acquire({ blocking: false })).toBe(false);
    expect(await lock.extend(5)).toBe(true);
    expect(await lock.release()).toBe(true);
    await redis.set('count', 1);
    await Promise.all(Array.from({ length: 50 }, () => redis.incr('count')));
    expect(await redis.get('count')).toBe(51);
    expect(await redis.touch('count', null)).toBe(true);
    expect(await redis.ttl('count')).toBeNull();
  });

  it('reads from replicas with readFrom: replica, and writes to primaries', async () => {
    const redis = cache({ keyPrefix: 'replica', options: { readFrom: 'replica', waitReplicas: 1, waitReplicasTimeout: 10_000 } });
    await redis.cluster!.ready();
    const shards = redis.cluster!.slotMap.shards;
    expect(shards.every((shard) => shard.replicas.length === 1)).toBe(true);
    await Promise.all(Array.from({ length: 60 }, (_, index) => redis.set(`r${index}`, index)));
    const replicas = shards.map((shard) => shard.replicas[0]!);
    const primaries = shards.map((shard) => shard.primary);
    const before = await Promise.all([...replicas, ...primaries].map((address) => counters(node(address))));
    const values = await Promise.all(Array.from({ length: 60 }, (_, index) => redis.get(`r${index}`)));
    const after = await Promise.all([...replicas, ...primaries].map((address) => counters(node(address))));
    expect(values).toEqual(Array.from({ length: 60 }, (_, index) => index));
    const gets = after.map((counter, index) => counter.calls('get') - before[index]!.calls('get'));
    expect(gets.slice(0, 3).reduce((sum, count) => sum + count, 0)).toBe(60);
    expect(gets.slice(3)).toEqual([0, 0, 0]);
  });

  it('refuses options that make no sense on a cluster', () => {
    expect(() => new RedisCache({ location: cluster.url, options: { sharding: 'consistent' } })).toThrow(/cannot be combined/);
    expect(() => new RedisCache({ location: `${cluster.url}?db=2` })).toThrow(/only database 0/);
    expect(() => new RedisCache({ location: cluster.url, options: { readFrom: 'nearest' as 'replica' } })).toThrow(/readFrom/);
    expect(() => new RedisCache({ location: 'redis://127.0.0.1:1', options: { readFrom: 'replica' } })).toThrow(/applies to a Redis Cluster/);
  });

  it('fails fast with a connection error when no seed answers', async () => {
    const redis = cache({ location: 'redis+cluster://127.0.0.1:1,127.0.0.1:2' });
    await expect(redis.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await expect(redis.get('k')).rejects.toThrow(/127\.0\.0\.1:1: .*127\.0\.0\.1:2: /);
    const ignoring = cache({ location: 'redis+cluster://127.0.0.1:1', options: { ignoreExceptions: true } });
    expect(await ignoring.get('k', 'fallback')).toBe('fallback');
  });
});
