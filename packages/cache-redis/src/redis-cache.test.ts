import { CacheConnectionError, KeyNotFoundError, NonNumericValueError, SerializationError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { serverSkipReason, startRedis, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache, type RedisCacheParams } from './index';
import { hashTag } from './ring';
import { sleep } from '../test/eventually';
import { startReplica } from '../test/replica';

const skip = await serverSkipReason('redis');
const skipControl = await serverSkipReason('redis', { control: true });

describe.skipIf(skip)(`RedisCache on one server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisTestServer;
  let raw: RedisClient;
  const caches: RedisCache[] = [];
  const cache = (params: RedisCacheParams = {}): RedisCache => {
    const created = new RedisCache({ location: server.url, ...params });
    caches.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await startRedis();
    raw = new RedisClient(server.url);
  });
  beforeEach(() => raw.flushdb());
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((created) => created.close()));
  });
  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  it('converts timeouts to milliseconds: negatives and 0 delete, fractions are kept, null never expires', () => {
    const redis = cache({ timeout: 60 });
    expect(redis.getBackendTimeout(10)).toBe(10_000);
    expect(redis.getBackendTimeout(-5)).toBe(0);
    expect(redis.getBackendTimeout(0)).toBe(0);
    expect(redis.getBackendTimeout(0.5)).toBe(500);
    expect(redis.getBackendTimeout(0.0001)).toBe(1);
    expect(redis.getBackendTimeout(null)).toBeNull();
    expect(redis.getBackendTimeout()).toBe(60_000);
  });

  it('keeps fractions of a second: 3.5 s is stored for 3.5 s (Django would store for 3 s)', async () => {
    const redis = cache();
    await redis.set('fraction', 'value', 3.5);
    const ttl = await redis.ttl('fraction');
    expect(ttl).toBeGreaterThan(3);
    expect(ttl).toBeLessThanOrEqual(3.5);
    expect(await redis.get('fraction')).toBe('value');
    await sleep(4000);
    expect(await redis.get('fraction')).toBeUndefined();
  });

  it('stores integers as decimal text other clients can read and INCRBY', async () => {
    const redis = cache({ keyPrefix: 'p' });
    await redis.set('count', 41);
    expect((await raw.get('p:1:count'))?.toString()).toBe('41');
    await raw.incrby('p:1:count', 1);
    expect(await redis.get('count')).toBe(42);
  });

  it('increments atomically, keeping the expiry, and never creates a missing key', async () => {
    const redis = cache();
    await redis.set('hits', 1, 100);
    await Promise.all(Array.from({ length: 100 }, () => redis.incr('hits')));
    expect(await redis.get('hits')).toBe(101);
    expect(await redis.ttl('hits')).toBeGreaterThan(90);
    await expect(redis.incr('nothing')).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(await raw.exists(':1:nothing')).toBe(0);
  });

  it('refuses to increment a non-integer, and results beyond the safe range without changing the value', async () => {
    const redis = cache();
    await redis.set('text', 'abc');
    await redis.set('float', 1.5);
    await expect(redis.incr('text')).rejects.toBeInstanceOf(NonNumericValueError);
    await expect(redis.incr('float')).rejects.toBeInstanceOf(NonNumericValueError);
    await redis.set('edge', Number.MAX_SAFE_INTEGER - 1);
    expect(await redis.incr('edge')).toBe(Number.MAX_SAFE_INTEGER);
    await expect(redis.incr('edge')).rejects.toThrow(/safe integer range/);
    expect(await redis.get('edge')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('deletes the old value on set with timeout 0, and persists on touch with null', async () => {
    const redis = cache();
    await redis.set('gone', 'old');
    await redis.set('gone', 'new', 0);
    expect(await raw.exists(':1:gone')).toBe(0);
    await redis.set('kept', 'v', 100);
    expect(await redis.touch('kept', null)).toBe(true);
    expect(await redis.ttl('kept')).toBeNull();
    expect(await redis.touch('missing', null)).toBe(false);
  });

  it('offers ttl, expire and persist', async () => {
    const redis = cache();
    expect(await redis.ttl('missing')).toBeUndefined();
    await redis.set('k', 'v', null);
    expect(await redis.ttl('k')).toBeNull();
    expect(await redis.expire('k', 50)).toBe(true);
    expect(await redis.ttl('k')).toBeGreaterThan(49);
    expect(await redis.persist('k')).toBe(true);
    expect(await redis.ttl('k')).toBeNull();
    expect(await redis.expire('missing', 10)).toBe(false);
    expect(await redis.expire('k', 0)).toBe(true);
    expect(await redis.get('k')).toBeUndefined();
  });

  it.each(['zlib', 'gzip', 'brotli'] as const)('compresses large values with %s and reads uncompressed ones too', async (algorithm) => {
    const plain = cache();
    const zipped = cache({ options: { compress: { algorithm, threshold: 100 } } });
    const large = { text: 'cachette '.repeat(2000) };
    await zipped.set('large', large);
    const stored = (await raw.get(':1:large'))!;
    expect(stored.length).toBeLessThan(2000);
    expect([...stored.subarray(0, 2)]).toEqual([0xca, 0x5a]);
    expect(await zipped.get('large')).toEqual(large);
    expect(await plain.get('large')).toEqual(large);
    await plain.set('small', 'tiny');
    expect(await zipped.get('small')).toBe('tiny');
    await zipped.set('number', 12345);
    expect((await raw.get(':1:number'))?.toString()).toBe('12345');
  });

  it.each(['v8', 'json'] as const)('reads every kind of stored value with getMany (%s), decoded in place from one MGET reply', async (serializer) => {
    const zipped = cache({ options: { serializer, compress: { threshold: 100 } } });
    const values = { large: { text: 'cachette '.repeat(2000) }, small: 'tiny', text: 'é中文 ✓', number: 12345, negative: -7, nothing: null, list: [1, 'two'] };
    await zipped.setMany(values);
    expect([...(await raw.get(':1:large'))!.subarray(0, 2)]).toEqual([0xca, 0x5a]);
    const found = await zipped.getMany(['missing', ...Object.keys(values), 'small', 'also missing']);
    expect(Object.fromEntries(found)).toEqual(values);
    expect([...found.keys()]).toEqual([...Object.keys(values)]);
  });

  it('fails getMany with a SerializationError on a corrupt value, and reads the next getMany normally', async () => {
    const redis = cache();
    await redis.setMany({ good: 'value', other: 2 });
    await raw.set(':1:corrupt', Buffer.from([0xca, 0x01, 0xff, 0x0f, 0x6f]));
    await expect(redis.getMany(['good', 'corrupt', 'other'])).rejects.toBeInstanceOf(SerializationError);
    expect(Object.fromEntries(await redis.getMany(['good', 'other']))).toEqual({ good: 'value', other: 2 });
  });

  it('deletes by pattern under its own prefix and version only, escaping glob characters in the prefix', async () => {
    const app = cache({ keyPrefix: 'app*' });
    const other = cache({ keyPrefix: 'app-other' });
    await app.setMany({ 'session:1': 1, 'session:2': 2, 'user:1': 3 });
    await app.set('session:3', 3, undefined, 2);
    await other.set('session:1', 'other');
    expect(await app.deletePattern('session:*')).toBe(2);
    expect(await app.get('user:1')).toBe(3);
    expect(await app.get('session:3', undefined, 2)).toBe(3);
    expect(await other.get('session:1')).toBe('other');
    expect(await app.deletePattern('session:*', { version: 2 })).toBe(1);
    expect(await app.deletePattern('*', { prefix: 'app-other' })).toBe(1);
    expect(await other.get('session:1')).toBeUndefined();
  });

  it('deletes thousands of keys by pattern, across SCAN pages', async () => {
    const redis = cache({ options: { scanCount: 50 } });
    await redis.setMany(Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`bulk:${i}`, i])));
    expect(await redis.deletePattern('bulk:*')).toBe(1200);
    expect(await raw.dbsize()).toBe(0);
  });

  it('iterates the caller\'s keys, prefix and version stripped', async () => {
    const redis = cache({ keyPrefix: 'site:a' });
    await redis.setMany({ 'page:home': 1, 'page:about': 2, other: 3 });
    await redis.set('page:v2', 1, undefined, 2);
    const keys: string[] = [];
    for await (const key of redis.iterKeys('page:*')) keys.push(key);
    expect(keys.sort()).toEqual(['page:about', 'page:home']);
  });

  it('clears the whole database, other prefixes included (FLUSHDB)', async () => {
    await raw.set('foreign', 'x');
    await cache({ keyPrefix: 'mine' }).clear();
    expect(await raw.dbsize()).toBe(0);
  });

  it('serializes access with lock() under contention', async () => {
    const redis = cache();
    await redis.set('balance', 0);
    const worker = async (): Promise<void> => {
      const lock = redis.lock('balance-lock', { timeout: 10, sleep: 0.005 });
      await lock.withLock(async () => {
        // A read-modify-write that loses updates without the lock.
        const balance = await redis.get<number>('balance', 0);
        await sleep(1);
        await redis.set('balance', balance + 1);
      });
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    expect(await redis.get('balance')).toBe(25);
    expect(await raw.exists(':1:balance-lock')).toBe(0);
  });

  it('gives up on a held lock when not blocking or after blockingTimeout, and never releases another holder\'s lock', async () => {
    const redis = cache();
    // Two seconds: the blocked acquire below must surely give up before the holder's lock ends.
    const holder = redis.lock('door', { timeout: 2 });
    expect(await holder.acquire()).toBe(true);
    expect(await redis.lock('door').acquire({ blocking: false })).toBe(false);
    const started = Date.now();
    expect(await redis.lock('door', { blockingTimeout: 0.1 }).acquire()).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    // The holder's lock expires; a newcomer takes it; the old holder's release must not free it.
    const newcomer = redis.lock('door', { timeout: 10 });
    expect(await newcomer.acquire({ blockingTimeout: 5 })).toBe(true);
    expect(await holder.release()).toBe(false);
    expect(await newcomer.owned()).toBe(true);
    expect(await newcomer.extend(5)).toBe(true);
    expect(await redis.ttl('door')).toBeGreaterThan(14);
    expect(await newcomer.release()).toBe(true);
    expect(await newcomer.locked()).toBe(false);
  });

  it('reads as a miss and reports failed writes with ignoreExceptions, warning once per outage', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const down = cache({ location: 'redis://127.0.0.1:1', options: { ignoreExceptions: true, reconnect: false } });
      expect(await down.get('k', 'fallback')).toBe('fallback');
      await down.set('k', 'v');
      expect(await down.add('k', 'v')).toBe(false);
      expect(await down.delete('k')).toBe(false);
      expect(await down.getMany(['a', 'b'])).toEqual(new Map());
      expect(await down.setMany({ a: 1, b: 2 })).toEqual(['a', 'b']);
      expect(await down.ttl('k')).toBeUndefined();
      await sleep(10);
      expect(warnings.filter((message) => message.includes('ignoreExceptions'))).toHaveLength(1);
      const strict = cache({ location: 'redis://127.0.0.1:1', options: { reconnect: false } });
      await expect(strict.get('k')).rejects.toThrow(/127\.0\.0\.1:1/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  const SERVER_STATS = ['redis_version', 'uptime_in_seconds', 'used_memory', 'maxmemory', 'keyspace_hits', 'keyspace_misses', 'evicted_keys', 'dbsize'];

  it.each([2, 3] as const)("storeStats (RESP%s) counts the selected database's keys, every prefix, and gives the server's INFO under its address", async (protocol) => {
    const redis = cache({ options: { protocol } });
    const address = `${server.host}:${server.port}`;
    await redis.setMany(Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`stats:${i}`, 'x'.repeat(100)])));
    await raw.set('foreign', 'x');
    const stats = await redis.storeStats();
    expect(Object.keys(stats)).toEqual(['entries', 'bytes', ...SERVER_STATS.map((name) => `${address} ${name}`)]);
    expect(stats.entries).toBe(26);
    expect(stats[`${address} dbsize`]).toBe(26);
    expect(stats.bytes).toBe(stats[`${address} used_memory`]);
    expect(stats.bytes).toBeGreaterThan(25 * 100);
    expect(stats[`${address} redis_version`]).toMatch(/^\d+\.\d+/);
    for (const name of SERVER_STATS.slice(1)) expect(typeof stats[`${address} ${name}`]).toBe('number');
    await redis.deleteMany(['stats:0', 'stats:1', 'stats:2']);
    expect((await redis.storeStats()).entries).toBe(23);
    // Another database of the same server counts its own keys only.
    const other = cache({ location: `${server.url}/5` });
    await other.set('k', 1);
    expect((await other.storeStats()).entries).toBe(1);
    await other.clear();
  });

  it('storeStats rejects with CacheConnectionError for a server that is down, even with ignoreExceptions', async () => {
    const down = cache({ location: 'redis://127.0.0.1:1', options: { ignoreExceptions: true, reconnect: false } });
    await expect(down.storeStats()).rejects.toBeInstanceOf(CacheConnectionError);
  });

  it('is created from URLs through cache-core, with db, prefix and protocol from the query', async () => {
    // The class itself, not the built package the scheme's module specifier would load.
    registerCacheScheme('redis', RedisCache);
    const fromUrl = (await createCache(`${server.url}/6?key_prefix=url&protocol=3`)) as RedisCache;
    caches.push(fromUrl);
    expect(fromUrl).toBeInstanceOf(RedisCache);
    await fromUrl.set('k', 'v');
    const db6 = new RedisClient(`${server.url}/6`);
    expect(await db6.exists('url:1:k')).toBe(1);
    expect(((await fromUrl.client.call('CLIENT', 'INFO')) as Buffer).toString()).toContain('resp=3');
    await db6.flushdb();
    await db6.close();
  });

  it('refuses waitReplicas with a pool, since WAIT covers one connection only', () => {
    expect(() => cache({ options: { waitReplicas: 1, poolSize: 2 } })).toThrow(/waitReplicas and poolSize/);
  });

  it('exposes the raw client', async () => {
    const redis = cache();
    await redis.client.set('raw', 'direct');
    expect((await redis.getClient({ write: false }).get('raw'))?.toString()).toBe('direct');
  });
});

describe.skipIf(skip)(`RedisCache sharded over three servers${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let servers: RedisTestServer[] = [];
  let raws: RedisClient[] = [];
  let cache: RedisCache;

  beforeAll(async () => {
    servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
    raws = servers.map((server) => new RedisClient(server.url));
    cache = new RedisCache({ location: servers.map((server) => server.url).join(','), options: { sharding: 'consistent' } });
  });
  afterAll(async () => {
    await cache?.close();
    await Promise.all(raws.map((raw) => raw.close()));
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('spreads keys over every shard and reads them back with one MGET per shard', async () => {
    const data = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key:${i}`, i]));
    await cache.setMany(data);
    const sizes = await Promise.all(raws.map((raw) => raw.dbsize()));
    expect(sizes.every((size) => size > 50)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(300);
    const found = await cache.getMany(Object.keys(data));
    expect(Object.fromEntries(found)).toEqual(data);
  });

  it('keeps keys with the same hash tag on one shard', async () => {
    expect(hashTag('user:{42}:name')).toBe('42');
    expect(hashTag('no{}tag')).toBe('no{}tag');
    await cache.setMany(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`user:{7}:field${i}`, i])));
    const counts = await Promise.all(raws.map(async (raw) => [...(await raw.mget(...Array.from({ length: 30 }, (_, i) => `:1:user:{7}:field${i}`)))].filter(Boolean).length));
    expect(counts.sort()).toEqual([0, 0, 30]);
  });

  it("reads ttl from the key's shard", async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `ttl:${i}`);
    await cache.setMany(Object.fromEntries(keys.map((key) => [key, 1])), 100);
    await cache.set('ttl:never', 1, null);
    const answers = await Promise.all(keys.map((key) => cache.ttl(key)));
    expect(answers.every((left) => left! > 99 && left! <= 100)).toBe(true);
    expect(await cache.ttl('ttl:never')).toBeNull();
    expect(await cache.ttl('ttl:missing')).toBeUndefined();
  });

  it("storeStats sums every shard's keys and memory, and gives each shard's INFO under its address", async () => {
    await cache.clear();
    await cache.setMany(Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`stats:${i}`, i])));
    const stats = await cache.storeStats();
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    expect(Object.keys(stats).slice(0, 2)).toEqual(['entries', 'bytes']);
    expect(Object.keys(stats)).toHaveLength(2 + 3 * 8);
    expect(stats.entries).toBe(90);
    const sizes = await Promise.all(raws.map((raw) => raw.dbsize()));
    expect(addresses.map((address) => stats[`${address} dbsize`])).toEqual(sizes);
    expect(sizes.every((size) => size > 0)).toBe(true);
    expect(stats.bytes).toBe(addresses.reduce((sum, address) => sum + (stats[`${address} used_memory`] as number), 0));
  });

  it('deletes by pattern and clears on every shard', async () => {
    await cache.setMany(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`gone:${i}`, i])));
    await cache.set('stays', 1);
    expect(await cache.deletePattern('gone:*')).toBe(60);
    expect(await cache.get('stays')).toBe(1);
    await cache.clear();
    expect(await Promise.all(raws.map((raw) => raw.dbsize()))).toEqual([0, 0, 0]);
  });
});

/** How many times `client`'s server has run `command`, from INFO commandstats. */
async function callsOf(client: RedisClient, command: string): Promise<number> {
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await client.info('commandstats'))?.[1] ?? 0);
}

describe.skipIf(skipControl)(`RedisCache with a read replica${skipControl ? ` (skipped: ${skipControl})` : ''}`, () => {
  it('writes to the primary and reads (get, ttl) from the replica', async () => {
    const primary = await startRedis();
    const replica = await startReplica(primary);
    const cache = new RedisCache({ location: `${primary.url};${replica.url}`, options: { waitReplicas: 1, waitReplicasTimeout: 10_000 } });
    const replicaClient = new RedisClient(replica.url);
    try {
      await cache.set('k', 'v');
      const readsBefore = await callsOf(replicaClient, 'get');
      expect(await cache.get('k')).toBe('v');
      expect(await callsOf(replicaClient, 'get')).toBe(readsBefore + 1);
      const ttlReadsBefore = await callsOf(replicaClient, 'pttl');
      expect(await cache.ttl('k')).toBeGreaterThan(299);
      expect(await callsOf(replicaClient, 'pttl')).toBe(ttlReadsBefore + 1);
      await expect(replicaClient.set('direct', 'x')).rejects.toThrow(/READONLY/);
      // The store is the primary's: its keys and memory, not the replica's again.
      const stats = await cache.storeStats();
      expect(stats.entries).toBe(1);
      expect(Object.keys(stats).filter((name) => name.endsWith(' dbsize'))).toEqual([`${primary.host}:${primary.port} dbsize`]);
    } finally {
      await cache.close();
      await replicaClient.close();
      await Promise.all([primary.stop(), replica.stop()]);
    }
  });
});
