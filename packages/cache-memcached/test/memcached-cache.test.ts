import { CacheConnectionError, InvalidCacheBackendError, InvalidCacheKey, SerializationError, ValueTooLargeError, commonParamsFromUrl, parseCacheUrl } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { MemcachedCache, ValueFlags } from '../src/index';

const THIRTY_DAYS = 30 * 24 * 3600;

describe('MemcachedCache configuration', () => {
  it("splits a location on ';' and ',' as Django does, or takes a list", () => {
    for (const location of ['server1.tld;server2:11211', 'server1.tld,server2:11211', ['server1.tld', 'server2:11211']]) {
      expect(new MemcachedCache({ location }).client.servers).toEqual(['server1.tld:11211', 'server2:11211']);
    }
  });

  it('reads IPv6, weights and Unix sockets', () => {
    const cache = new MemcachedCache({ location: ['[::1]:11212', '10.0.0.1:11211:3', 'unix:/run/mc.sock', '/tmp/mc.sock'] });
    expect(cache.client.servers).toEqual(['[::1]:11212', '10.0.0.1:11211', 'unix:/run/mc.sock', 'unix:/tmp/mc.sock']);
  });

  it('rejects a malformed server, an unknown protocol and a non-boolean ignoreExceptions', () => {
    expect(() => new MemcachedCache({ location: 'host:99999' })).toThrow(InvalidCacheBackendError);
    expect(() => new MemcachedCache({ options: { protocol: 'udp' as never } })).toThrow(InvalidCacheBackendError);
    expect(() => new MemcachedCache({ options: { ignoreExceptions: 'yes' as never } })).toThrow(InvalidCacheBackendError);
  });

  it('reads memcached:// URLs: several hosts, options and credentials', () => {
    const parsed = parseCacheUrl('memcached://user:p%40ss@h1:11211,h2:11212?protocol=binary&timeout=60&pool_size=2');
    const params = MemcachedCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed));
    expect(params).toMatchObject({
      location: ['h1:11211', 'h2:11212'],
      timeout: 60,
      options: { protocol: 'binary', poolSize: 2, username: 'user', password: 'p@ss' },
    });
  });

  it("converts timeouts as Django does: null never, 0 at once, beyond 30 days an absolute time, fractions cut", () => {
    const cache = new MemcachedCache({ timeout: null });
    expect(cache.getBackendTimeout()).toBe(0);
    expect(cache.getBackendTimeout(null)).toBe(0);
    expect(cache.getBackendTimeout(0)).toBe(-1);
    expect(cache.getBackendTimeout(0.5)).toBe(-1);
    expect(cache.getBackendTimeout(2.9)).toBe(2);
    expect(cache.getBackendTimeout(-5)).toBe(-5);
    expect(cache.getBackendTimeout(THIRTY_DAYS)).toBe(THIRTY_DAYS);
    const absolute = cache.getBackendTimeout(THIRTY_DAYS + 1);
    expect(Math.abs(absolute - (Math.trunc(Date.now() / 1000) + THIRTY_DAYS + 1))).toBeLessThanOrEqual(2);
    expect(new MemcachedCache({ timeout: 300 }).getBackendTimeout()).toBe(300);
  });

  it('rejects a made key over 250 UTF-8 bytes even when it has fewer characters', async () => {
    const cache = new MemcachedCache({ keyFunction: (key) => key });
    await expect(cache.get('清'.repeat(100))).rejects.toBeInstanceOf(InvalidCacheKey);
  });
});

const skip = await serverSkipReason('memcached');

for (const protocol of ['text', 'binary'] as const) {
  describe.skipIf(skip)(`MemcachedCache on a real server, ${protocol}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let server: TestServer;
    let cache: MemcachedCache;
    let raw: MemcachedClient;
    beforeAll(async () => {
      server = await startMemcached({ args: ['-I', '1m'] });
      // Features, not failure detection: room for a machine loaded by parallel test files.
      cache = new MemcachedCache({ location: server.url, options: { protocol, operationTimeout: 5 } });
      raw = new MemcachedClient(server.url, { protocol, operationTimeout: 5 });
    });
    afterAll(async () => {
      await Promise.all([cache.close(), raw.close()]);
      await server.stop();
    });

    it('a value over the item size limit rejects and leaves no stale value behind', async () => {
      await cache.set('key', 'old value');
      await expect(cache.set('key', Buffer.alloc(2 * 1024 * 1024, 7))).rejects.toBeInstanceOf(ValueTooLargeError);
      expect(await cache.get('key')).toBe(undefined);
    });

    it('a default timeout of null never expires; a year is stored as an absolute time', async () => {
      const forever = new MemcachedCache({ location: server.url, timeout: null, options: { protocol } });
      const year = new MemcachedCache({ location: server.url, timeout: 365 * 24 * 3600, options: { protocol } });
      await forever.set('forever', 'x');
      await year.set('year', 'y');
      expect([await forever.get('forever'), await year.get('year')]).toEqual(['x', 'y']);
      await Promise.all([forever.close(), year.close()]);
    });

    it('records the serializer in the flags: integers as decimal text, Buffers raw', async () => {
      await cache.setMany({ int: 42, negative: -2, buffer: Buffer.from([0, 1]), object: { a: 1 } });
      const items = await raw.getMany([':1:int', ':1:negative', ':1:buffer', ':1:object']);
      expect(items.get(':1:int')).toMatchObject({ value: Buffer.from('42'), flags: ValueFlags.integer });
      expect(items.get(':1:negative')).toMatchObject({ value: Buffer.from('18446744073709551614'), flags: ValueFlags.integer });
      expect(items.get(':1:buffer')).toMatchObject({ value: Buffer.from([0, 1]), flags: ValueFlags.bytes });
      expect(items.get(':1:object')?.flags).toBe(ValueFlags.v8);
      expect(await raw.incr(':1:int', 8)).toBe(50n);
      expect(await cache.get('int')).toBe(50);
    });

    it("reads what Django's PyMemcacheCache writes for bytes, integers and text", async () => {
      await raw.set(':1:py-int', '-7', { flags: 2 });
      await raw.set(':1:py-text', 'héllo', { flags: 16 });
      await raw.set(':1:py-bytes', Buffer.from([1, 2]), { flags: 0 });
      expect(await cache.getMany(['py-int', 'py-text', 'py-bytes'])).toEqual(
        new Map<string, unknown>([
          ['py-int', -7],
          ['py-text', 'héllo'],
          ['py-bytes', Buffer.from([1, 2])],
        ]),
      );
    });

    it('an item with flags no Cachette serializer writes rejects with SerializationError', async () => {
      await raw.set(':1:pickled', 'x', { flags: 1 });
      await expect(cache.get('pickled')).rejects.toBeInstanceOf(SerializationError);
    });

    it('the json serializer is recorded and read back', async () => {
      const json = new MemcachedCache({ location: server.url, keyPrefix: 'json', options: { protocol, serializer: 'json' } });
      await json.set('k', { list: [1, 'two'] });
      expect((await raw.get('json:1:k'))?.flags).toBe(ValueFlags.json);
      expect(await json.get('k')).toEqual({ list: [1, 'two'] });
      await json.close();
    });
  });
}

for (const protocol of ['text', 'binary'] as const) {
  describe.skipIf(skip)(`MemcachedCache storeStats over two servers, ${protocol}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let servers: TestServer[];
    let cache: MemcachedCache;
    beforeAll(async () => {
      servers = await Promise.all([startMemcached(), startMemcached()]);
      cache = new MemcachedCache({ location: servers.map((server) => server.url), options: { protocol, operationTimeout: 5 } });
    });
    afterAll(async () => {
      await cache.close();
      await Promise.all(servers.map((server) => server.stop()));
    });

    it("sums every server's items and bytes, then gives each server's stats under its name", async () => {
      const keys = Array.from({ length: 40 }, (_, index) => `stats-${index}`);
      await cache.setMany(Object.fromEntries(keys.map((key) => [key, 'x'.repeat(100)])));
      const other = new MemcachedCache({ location: servers[0]!.url, keyPrefix: 'other', options: { protocol } });
      await other.set('k', 1);
      await other.close();
      const stats = await cache.storeStats();
      const names = ['version', 'uptime', 'curr_items', 'bytes', 'limit_maxbytes', 'get_hits', 'get_misses', 'evictions'];
      expect(Object.keys(stats)).toEqual(['entries', 'bytes', ...servers.flatMap((server) => names.map((name) => `${server.url} ${name}`))]);
      expect(stats.entries).toBe(41);
      const perServer = servers.map((server) => stats[`${server.url} curr_items`] as number);
      expect(perServer.every((items) => items > 0)).toBe(true);
      expect(perServer[0]! + perServer[1]!).toBe(41);
      expect(stats.bytes).toBe((stats[`${servers[0]!.url} bytes`] as number) + (stats[`${servers[1]!.url} bytes`] as number));
      expect(stats.bytes).toBeGreaterThan(41 * 100);
      for (const server of servers) {
        expect(stats[`${server.url} version`]).toMatch(/^\d+\.\d+\.\d+/);
        for (const name of names.slice(1)) expect(typeof stats[`${server.url} ${name}`]).toBe('number');
        expect(stats[`${server.url} limit_maxbytes`]).toBeGreaterThan(0);
      }
      await cache.deleteMany(keys.slice(0, 10));
      expect((await cache.storeStats()).entries).toBe(31);
    });

    it('getMany reads both servers and answers in the order of the keys asked for, repeats and misses included', async () => {
      const keys = Array.from({ length: 30 }, (_, index) => `order-${index}`);
      const values = keys.map((key, index) => (index % 3 === 0 ? Buffer.from(key) : index % 3 === 1 ? { key } : `${key} ✓`));
      await cache.setMany(Object.fromEntries(keys.map((key, index) => [key, values[index]])));
      const asked = [...keys].reverse().flatMap((key, index) => (index % 7 === 0 ? [key, 'order-missing', key] : [key]));
      const found = await cache.getMany(asked);
      expect([...found.keys()]).toEqual([...new Set(asked)].filter((key) => key !== 'order-missing'));
      for (const [index, key] of keys.entries()) expect(found.get(key)).toEqual(values[index]);
    });

    it('rejects with CacheConnectionError when a server is down, even with ignoreExceptions', async () => {
      const down = new MemcachedCache({ location: [servers[0]!.url, '127.0.0.1:1'], options: { protocol, ignoreExceptions: true } });
      try {
        await expect(down.storeStats()).rejects.toBeInstanceOf(CacheConnectionError);
      } finally {
        await down.close();
      }
    });
  });
}
