import { InvalidCacheBackendError } from '@cachette/cache-core';
import { MemcachedCache } from '@cachette/cache-memcached';
import { RedisCache } from '@cachette/cache-redis';
import { RedisClient } from '@cachette/cache-redis/client';
import { redisClusterSkipReason, serverSkipReason, startMemcached, startRedis, startRedisCluster, type RedisClusterTestServer, type RedisTestServer, type TestServer } from '@cachette/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PeerProcess } from '../test/peer-process';
import { roundTrip } from '../test/round-trip';
import { TieredCache, type TieredCacheOptions } from './index';

const skip = await serverSkipReason('redis');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls of each Redis command so far, from `INFO commandstats`, the INFOs that asked left out. */
async function commandCalls(client: RedisClient): Promise<Map<string, number>> {
  const text = String(await client.call('INFO', 'commandstats'));
  const calls = new Map([...text.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map((match) => [match[1]!, Number(match[2])]));
  calls.delete('info');
  return calls;
}

describe.skipIf(skip)(`TieredCache over Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: RedisTestServer;
  let raw: RedisClient;
  const opened: TieredCache[] = [];
  const tiered = (options: Partial<TieredCacheOptions> = {}, sharedOptions: object = {}): TieredCache => {
    const cache = new TieredCache({ keyPrefix: 'two', options: { shared: { backend: RedisCache, location: server.url, options: sharedOptions }, ...options } });
    opened.push(cache);
    return cache;
  };

  beforeAll(async () => {
    server = await startRedis();
    raw = new RedisClient(server.url);
  });
  beforeEach(() => raw.flushdb());
  afterEach(async () => Promise.all(opened.splice(0).map((cache) => cache.close())));
  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  it('answers a read it has filled from the local tier, sending Redis no command', async () => {
    const cache = tiered();
    await cache.set('hot', { n: 1 });
    expect(await cache.get('hot')).toEqual({ n: 1 });
    const before = await commandCalls(raw);
    for (let read = 0; read < 100; read++) expect(await cache.get('hot')).toEqual({ n: 1 });
    expect(await cache.getMany(['hot'])).toEqual(new Map([['hot', { n: 1 }]]));
    expect(await cache.hasKey('hot')).toBe(true);
    expect(await commandCalls(raw)).toEqual(before);
    expect(cache.tierStats()).toMatchObject({ localHits: 101, sharedHits: 1 });
  });

  it('keeps a local copy no longer than the shared entry lives', async () => {
    const cache = tiered();
    await cache.set('brief', 'v', 0.3);
    expect(await cache.get('brief')).toBe('v');
    await sleep(400);
    expect(await cache.get('brief')).toBeUndefined();
    expect(await cache.ttl('brief')).toBeUndefined();
  });

  it('getMany mixes local hits and shared reads in the caller\'s order, and fills what it read', async () => {
    const cache = tiered();
    await cache.setMany({ a: 1, b: 2, c: 3 });
    await cache.get('b');
    expect([...(await cache.getMany(['c', 'missing', 'b', 'a']))]).toEqual([
      ['c', 3],
      ['b', 2],
      ['a', 1],
    ]);
    const stats = cache.tierStats();
    await cache.getMany(['a', 'b', 'c']);
    expect(cache.tierStats().localHits - stats.localHits).toBe(3);
  });

  it("two caches on one Redis: writes, deletes, counters and versions of one are seen by the other after one round trip", async () => {
    const [one, other] = [tiered(), tiered()];
    // Redis sends the notice before it answers the writer; the reader has it once a reply that
    // follows it on its own connection has come.
    const othersRead = async (key: string, version?: number) => {
      await roundTrip(other);
      return other.get(key, undefined, version);
    };
    await one.set('k', 'first');
    expect(await othersRead('k')).toBe('first');
    expect(await othersRead('k')).toBe('first');
    await one.set('k', 'second');
    expect(await othersRead('k')).toBe('second');
    await one.delete('k');
    expect(await othersRead('k')).toBeUndefined();
    await one.set('n', 1);
    expect(await othersRead('n')).toBe(1);
    expect(await one.incr('n', 5)).toBe(6);
    expect(await othersRead('n')).toBe(6);
    await one.touch('n', 100);
    expect(await othersRead('n')).toBe(6);
    await other.set('v', 'version 1');
    expect(await one.get('v')).toBe('version 1');
    await one.incrVersion('v');
    expect(await othersRead('v', 2)).toBe('version 1');
    expect(await othersRead('v')).toBeUndefined();
    await one.add('added', 'x');
    expect(await other.add('added', 'y')).toBe(false);
    expect(await othersRead('added')).toBe('x');
    expect(other.tierStats().invalidations).toBeGreaterThanOrEqual(4);
  });

  it('a FLUSHDB by another client drops the whole local tier', async () => {
    const cache = tiered();
    await cache.set('a', 1);
    await cache.get('a');
    await raw.flushdb();
    await roundTrip(cache);
    expect(cache.tierStats().flushes).toBe(1);
    expect(await cache.get('a')).toBeUndefined();
  });

  it('clear() empties both tiers', async () => {
    const [one, other] = [tiered(), tiered()];
    await one.set('a', 1);
    await other.get('a');
    await one.clear();
    expect(await one.get('a')).toBeUndefined();
    // The flush notice is certain to have reached the other cache after a round trip on its own connection.
    await roundTrip(other);
    expect(await other.get('a')).toBeUndefined();
  });

  it("broadcast: this process's writes fill its local tier, and other processes hear every change under the prefix", async () => {
    const [writer, reader] = [tiered({ invalidation: 'broadcast' }), tiered({ invalidation: 'broadcast' })];
    await writer.set('b', 'one');
    const before = await commandCalls(raw);
    expect(await writer.get('b')).toBe('one');
    expect((await commandCalls(raw)).get('get')).toBe(before.get('get'));
    expect(await reader.get('b')).toBe('one');
    await writer.set('b', 'two');
    await roundTrip(reader);
    expect(await reader.get('b')).toBe('two');
    await raw.set('two:1:b', Buffer.from('not a cachette value'));
    await roundTrip(reader);
    expect(reader.tierStats().invalidations).toBeGreaterThanOrEqual(2);
  });

  it('an unreachable Redis rejects reads it would have to fill, with the shared tier\'s error', async () => {
    const down = new TieredCache({ options: { shared: { backend: RedisCache, location: 'redis://127.0.0.1:1', options: { connectTimeout: 200 } } } });
    opened.push(down);
    await expect(down.get('k')).rejects.toThrow(/127\.0\.0\.1:1/);
    await expect(down.set('k', 1)).rejects.toThrow(/127\.0\.0\.1:1/);
  });

  describe('with another Node process', () => {
    let peer: PeerProcess;
    beforeEach(() => {
      peer = new PeerProcess(server.url);
    });
    afterEach(() => peer.stop());

    it('a write, a delete and an overwrite in one are seen by the other within one round trip', async () => {
      const cache = tiered();
      // The other process's read after one round trip on its own connections (see round-trip.ts).
      const peerReads = async (key: string): Promise<unknown> => {
        await peer.roundTrip();
        return peer.get(key);
      };
      await cache.set('shared', 'from here');
      expect(await peerReads('shared')).toBe('from here');
      expect(await peerReads('shared')).toBe('from here');
      expect((await peer.tierStats()).localHits).toBe(1);
      await cache.set('shared', 'overwritten');
      expect(await peerReads('shared')).toBe('overwritten');
      await cache.delete('shared');
      expect(await peerReads('shared')).toBeNull();
      await peer.set('theirs', 'from the peer');
      expect(await cache.get('theirs')).toBe('from the peer');
      expect(await cache.get('theirs')).toBe('from the peer');
      await peer.set('theirs', 'changed by the peer');
      await roundTrip(cache);
      expect(await cache.get('theirs')).toBe('changed by the peer');
    });

    it('after its tracking connection is killed (CLIENT KILL), the other serves no stale value', async () => {
      const cache = tiered();
      await cache.set('k', 'before');
      expect(await peer.get('k')).toBe('before');
      expect(await peer.get('k')).toBe('before');
      const clients = String(await raw.call('CLIENT', 'LIST'));
      const peerIds = [...clients.matchAll(/^id=(\d+) .*name=tiered-peer /gm)].map((match) => match[1]!);
      expect(peerIds.length).toBeGreaterThan(0);
      for (const id of peerIds) await raw.call('CLIENT', 'KILL', 'ID', id);
      await cache.set('k', 'after');
      // The round trip may fail on the dead connection; either way the loss is handled once it settles.
      await peer.roundTrip().catch(() => undefined);
      // While its connection comes back, the peer's reads fail fast (a cache misses rather than
      // waits); none may answer with the value it had before.
      const answers: unknown[] = [];
      while (answers.at(-1) !== 'after') {
        answers.push(await peer.get('k').catch((error: Error) => error.message));
        expect(answers.at(-1)).not.toBe('before');
        if (answers.at(-1) !== 'after') await sleep(20);
      }
      expect((await peer.tierStats()).flushes).toBeGreaterThanOrEqual(1);
    });
  });
});

const skipCluster = await redisClusterSkipReason();

describe.skipIf(skipCluster)(`TieredCache over Redis Cluster${skipCluster ? ` (skipped: ${skipCluster})` : ''}`, () => {
  let cluster: RedisClusterTestServer;
  beforeAll(async () => {
    cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  });
  afterAll(() => cluster?.stop());

  it('tracks on every node: keys spread over all primaries are dropped when another cache changes them', async () => {
    const make = () => new TieredCache({ keyPrefix: 'cl', options: { shared: { backend: RedisCache, location: cluster.url } } });
    const [writer, reader] = [make(), make()];
    try {
      const keys = Array.from({ length: 30 }, (_, index) => `key-${index}`);
      await writer.setMany(Object.fromEntries(keys.map((key) => [key, 'first'])));
      expect(await reader.getMany(keys)).toEqual(new Map(keys.map((key) => [key, 'first'])));
      await reader.getMany(keys);
      expect(reader.tierStats().localHits).toBe(30);
      const nodes = new Set(keys.map((key) => (reader.sharedCache as RedisCache).topology.readerFor(reader.makeKey(key)).address));
      expect(nodes.size).toBe(3);
      await writer.setMany(Object.fromEntries(keys.map((key) => [key, 'second'])));
      await roundTrip(reader);
      expect(await reader.getMany(keys)).toEqual(new Map(keys.map((key) => [key, 'second'])));
      expect(reader.tierStats().invalidations).toBe(30);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});

describe.skipIf(skip)('TieredCache settings', () => {
  it('needs a shared tier, and a localTimeout over a backend that cannot announce changes', () => {
    expect(() => new TieredCache()).toThrow(InvalidCacheBackendError);
    expect(() => new TieredCache({ options: { shared: { backend: MemcachedCache } } })).toThrow(/localTimeout/);
    expect(() => new TieredCache({ options: { shared: { backend: MemcachedCache }, localTimeout: 5, invalidation: 'keys' } })).toThrow(/announce/);
    expect(() => new TieredCache({ options: { shared: { backend: RedisCache }, localTimeout: 0 } })).toThrow(/localTimeout/);
    expect(() => new TieredCache({ options: { shared: { backend: RedisCache }, invalidation: 'sometimes' as never } })).toThrow(/invalidation/);
  });
});

const skipMemcached = await serverSkipReason('memcached');

describe.skipIf(skipMemcached)(`TieredCache over memcached (localTimeout only)${skipMemcached ? ` (skipped: ${skipMemcached})` : ''}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(() => server?.stop());

  it("serves another process's change once its local copy is localTimeout old, and its own writes at once", async () => {
    const make = () => new TieredCache({ keyPrefix: 'mc', options: { shared: { backend: MemcachedCache, location: server.url }, localTimeout: 0.5 } });
    const [one, other] = [make(), make()];
    try {
      expect(one.coherence).toBe('timeout');
      await one.set('k', 'first');
      expect(await other.get('k')).toBe('first');
      await one.set('k', 'second');
      expect(await one.get('k')).toBe('second');
      expect(await other.get('k')).toBe('first');
      await sleep(600);
      expect(await other.get('k')).toBe('second');
    } finally {
      await Promise.all([one.close(), other.close()]);
    }
  });
});
