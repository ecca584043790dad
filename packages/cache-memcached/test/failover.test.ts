import { CacheConnectionError } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type ControllableServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemcachedClient } from '../src/client';
import { MemcachedCache } from '../src/index';

const skip = await serverSkipReason('memcached', { control: true });

const keys = Array.from({ length: 60 }, (_, index) => `failover-${index}`);

/** Which server holds each key, asked of each server directly. */
async function holders(servers: ControllableServer[]): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const server of servers) {
    const direct = new MemcachedClient(server.url);
    for (const key of (await direct.getMany(keys)).keys()) result.set(key, server.url);
    await direct.close();
  }
  return result;
}

describe.skipIf(skip)(`failover over three servers${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let servers: ControllableServer[];
  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  });
  afterAll(() => Promise.all(servers.map((server) => server.stop())));

  it('a killed server leaves the ring after failureLimit failures, its keys go to the others, and it comes back after retryTimeout', async () => {
    const client = new MemcachedClient(
      servers.map((server) => server.url),
      // Ejected for 5 s: the writes after the ejection must not meet the victim back in the ring.
      { failureLimit: 2, retryTimeout: 5 },
    );
    await client.setMany(keys.map((key) => [key, { value: 'before' }]));
    const before = await holders(servers);
    const victim = servers[1]!;
    const victimKeys = keys.filter((key) => before.get(key) === victim.url);
    expect(victimKeys.length).toBeGreaterThan(0);

    await victim.kill();
    // Failures while the server is still in the ring are fast; after failureLimit it is skipped.
    let failures = 0;
    await vi.waitFor(
      async () => {
        try {
          expect(await client.set(victimKeys[0]!, 'during')).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(CacheConnectionError);
          failures++;
          throw error;
        }
      },
      { timeout: 5000, interval: 20 },
    );
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(await client.setMany(keys.map((key) => [key, { value: 'during' }]))).toEqual([]);
    const during = await holders(servers.filter((server) => server !== victim));
    for (const key of keys) expect(during.get(key)).toBeDefined();
    // Keys of the servers still up did not move.
    for (const key of keys.filter((key) => !victimKeys.includes(key))) expect(during.get(key)).toBe(before.get(key));

    await victim.restart();
    await vi.waitFor(
      async () => {
        await client.set(victimKeys[0]!, 'after');
        const direct = new MemcachedClient(victim.url);
        const found = await direct.get(victimKeys[0]!);
        await direct.close();
        expect(found?.value.toString()).toBe('after');
      },
      { timeout: 15_000, interval: 200 },
    );
    await client.close();
  });

  it('with one server: failures are fast, and with ignoreExceptions the cache misses and warns once per outage', async () => {
    const [server] = servers;
    const cache = new MemcachedCache({ location: server!.url, options: { ignoreExceptions: true, failureLimit: 1, retryTimeout: 0.5 } });
    await cache.set('k', 'v');
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await server!.kill();
      const started = Date.now();
      expect(await cache.get('k', 'default')).toBe('default');
      expect(await cache.add('k2', 'v')).toBe(false);
      expect(await cache.touch('k')).toBe(false);
      expect(await cache.delete('k')).toBe(false);
      expect(await cache.getMany(['k', 'k2'])).toEqual(new Map());
      expect(await cache.setMany({ a: 1, b: 2 })).toEqual(['a', 'b']);
      await cache.set('k', 'lost');
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes('Memcached is unavailable'))).toHaveLength(1);
      await server!.restart();
      await vi.waitFor(async () => {
        await cache.set('k', 'back');
        expect(await cache.get('k')).toBe('back');
      }, { timeout: 10_000, interval: 200 });
    } finally {
      process.off('warning', onWarning);
      await cache.close();
    }
  });
});
