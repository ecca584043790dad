import { ONE_WAY_SAMPLES, djangoCacheSkipReason, fromTyped, serverSkipReason, startDjangoCachePeer, startRedis, toTyped, type DjangoCachePeer, type RedisTestServer, type TypedValue } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache } from './index';

const skip = (await serverSkipReason('redis')) ?? djangoCacheSkipReason();

for (const compressor of [undefined, 'django_redis.compressors.zlib.ZlibCompressor']) {
  describe.skipIf(skip)(`RedisCache with serializer: 'pickle' and django-redis${compressor ? ' with zlib' : ''} share one Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let redis: RedisTestServer;
    let django: DjangoCachePeer;
    let cache: RedisCache;
    let samples: Record<string, TypedValue>;

    beforeAll(async () => {
      redis = await startRedis();
      django = await startDjangoCachePeer({
        BACKEND: 'django_redis.cache.RedisCache',
        LOCATION: `${redis.url}/0`,
        KEY_PREFIX: 'shared',
        OPTIONS: compressor ? { COMPRESSOR: compressor } : {},
      });
      cache = new RedisCache({ location: redis.url, keyPrefix: 'shared', options: { serializer: 'pickle', ...(compressor && { compress: { algorithm: 'zlib' } }) } });
      samples = await django.samples();
    });
    afterAll(async () => {
      await cache?.close();
      await django?.close();
      await redis?.stop();
    });

    it('reads every sample Django wrote, as the JS value it maps to', async () => {
      const names = await django.writeSamples();
      expect(names.length).toBeGreaterThanOrEqual(27);
      for (const name of names) expect([name, await cache.get(`sample:${name}`)]).toStrictEqual([name, fromTyped(samples[name]!)]);
      const many = await cache.getMany(names.map((name) => `sample:${name}`));
      expect(many.size).toBe(names.length);
    });

    it('writes values Django reads as the same Python values', async () => {
      await django.clear();
      const crossing = Object.keys(samples).filter((name) => !(name in ONE_WAY_SAMPLES));
      await cache.setMany(Object.fromEntries(crossing.map((name) => [`sample:${name}`, fromTyped(samples[name]!)])));
      const read = await django.readSamples({ names: crossing });
      const unequal = Object.entries(read).filter(([, result]) => !result.equal);
      expect(unequal).toEqual([]);
      expect(Object.keys(read)).toHaveLength(crossing.length);
    });

    it('stores integers as decimal text and everything else as a pickle, as django-redis does', async () => {
      const raw = new RedisClient(redis.url);
      try {
        await cache.set('plain-int', 12345);
        await cache.set('text', 'x'.repeat(100));
        expect((await raw.get('shared:1:plain-int'))?.toString()).toBe('12345');
        const stored = (await raw.get('shared:1:text'))!;
        expect(stored[0]).toBe(compressor ? 0x78 : 0x80);
        expect(await django.get('text')).toEqual(toTyped('x'.repeat(100)));
      } finally {
        await raw.close();
      }
    });

    it("increments each other's counters, and sees each other's deletes and timeouts", async () => {
      await django.set('counter', toTyped(10));
      expect(await cache.incr('counter')).toBe(11);
      expect(await django.incr('counter')).toBe(12);
      expect(await cache.get('counter')).toBe(12);
      await cache.set('mine', 1);
      expect(await django.incr('mine', 5)).toBe(6);
      expect(await cache.decr('mine', 2)).toBe(4);
      expect(fromTyped((await django.get('mine'))!)).toBe(4);
      await django.delete('mine');
      expect(await cache.get('mine')).toBeUndefined();
      await cache.set('short', 'v', 100);
      expect(await django.touch('short', 1000)).toBe(true);
      expect(await cache.ttl('short')).toBeGreaterThan(900);
    });
  });
}
