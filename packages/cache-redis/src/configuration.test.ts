import { CacheConnectionError, InvalidCacheBackendError, UnknownCacheOptionError, commonParamsFromUrl, createCache, parseCacheUrl, registerCacheScheme } from '@cachette/cache-core';
import { closedPort, startRedis, type RedisTestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCache } from './index';
import { RedisReplyError } from './resp/reply-error';

const URL_PARAMETERS =
  'timeout, key_prefix, version, stats, client_name, cluster, command_timeout, connect_timeout, db, ignore_exceptions, keep_alive, max_value_bytes, offline_queue, password, ' +
  'pool_size, protocol, read_from, read_only, scan_count, serializer, sharding, tls, username, wait_replicas, wait_replicas_timeout';

/** What a cache's first operation rejects with (or resolves to); the cache is closed after it. */
async function firstOutcome(cache: RedisCache): Promise<unknown> {
  const outcome = await cache.get('a').catch((error: unknown) => error);
  await cache.close();
  return outcome;
}

const suggesting = (suggestion: string) => expect.objectContaining({ suggestion });

// The registry would load the built package by name; tests use the sources.
for (const scheme of ['redis', 'rediss', 'redis+cluster', 'unix']) registerCacheScheme(scheme, RedisCache);

describe('RedisCache configuration with unknown names', () => {
  it("refuses redis://127.0.0.1:6379/0?timout=5, suggesting 'timeout' and listing the parameters a Redis URL takes", async () => {
    const error = await createCache('redis://127.0.0.1:6379/0?timout=5').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect((error as Error).message).toBe(
      `Unknown query parameter 'timout' in the cache URL 'redis://127.0.0.1:6379/0?timout=5' (did you mean 'timeout'?). Known query parameters: ${URL_PARAMETERS}`,
    );
  });

  it('refuses an unknown option, suggesting the nearest and listing every known one', () => {
    const construct = () => new RedisCache({ options: { ignoreExceptons: true } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow(/^Unknown option 'ignoreExceptons' for RedisCache \(did you mean 'ignoreExceptions'\?\)\. Known options: clientName, cluster, commandTimeout, /);
    const objectOnly = ['tracking', 'onPush', 'setupCommands', 'onSessionEnd', 'reverseKeyFunction', 'compress', 'reconnect'];
    expect(construct).toThrow(expect.objectContaining({ suggestion: 'ignoreExceptions', knownNames: expect.arrayContaining(objectOnly) }));
  });

  it('checks the query of every location URL of a configuration object: single, replicas, ring and cluster', () => {
    expect(() => new RedisCache({ location: 'redis://:s3cret@127.0.0.1:6379/0?clent_name=site' })).toThrow(
      "Unknown query parameter 'clent_name' in the cache URL 'redis://:***@127.0.0.1:6379/0?clent_name=site' (did you mean 'client_name'?)",
    );
    expect(() => new RedisCache({ location: ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6380?protocl=3'] })).toThrow(suggesting('protocol'));
    const ring = { location: 'redis://127.0.0.1:6379;redis://127.0.0.1:6380?dbb=1', options: { sharding: 'consistent' as const } };
    expect(() => new RedisCache(ring)).toThrow(suggesting('db'));
    expect(() => new RedisCache({ location: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001?protcol=3' })).toThrow(suggesting('protocol'));
  });

  it("refuses the cache's own parameters in a location URL, where nothing would read them", () => {
    expect(() => new RedisCache({ location: 'redis://127.0.0.1:6379/0?timeout=5' })).toThrow(
      "Unknown query parameter 'timeout' in the cache URL 'redis://127.0.0.1:6379/0?timeout=5'. Known query parameters: client_name, db, password, protocol, username",
    );
  });

  it('reads a cache URL into a location that keeps only the connection parameters', () => {
    const url = parseCacheUrl('rediss://u:p@127.0.0.1:6380/2?timeout=5&db=3&pool_size=2&client_name=site&clientName=app&protocol=3');
    expect(RedisCache.paramsFromUrl(url, commonParamsFromUrl(url)).location).toBe('rediss://u:p@127.0.0.1:6380/2?db=3&client_name=site&clientName=app&protocol=3');
    const socket = parseCacheUrl('unix:///run/redis.sock?db=1&key_prefix=p');
    expect(RedisCache.paramsFromUrl(socket, commonParamsFromUrl(socket)).location).toBe('unix:///run/redis.sock?db=1');
  });

  it('takes the options and connection parameters it knows from a URL, without connecting', async () => {
    const url = 'redis://127.0.0.1:6379/0?db=1&protocol=3&client_name=site&timeout=5&key_prefix=p&pool_size=2&ignore_exceptions=true&command_timeout=100';
    const cache = (await createCache(url)) as RedisCache;
    expect([cache.defaultTimeout, cache.keyPrefix]).toEqual([5, 'p']);
    await cache.close();
  });

  it('refuses a malformed URL with InvalidCacheBackendError', async () => {
    await expect(createCache('redis://127.0.0.1:notaport/0')).rejects.toThrow(InvalidCacheBackendError);
    await expect(createCache('redis://127.0.0.1:6379/zero')).rejects.toThrow(/db must be a non-negative integer/);
  });

  it('an unreachable server fails the first operation with CacheConnectionError, and ignoreExceptions turns it into a miss', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}/0`;
    expect(await firstOutcome((await createCache(`${url}?connect_timeout=2000`)) as RedisCache)).toBeInstanceOf(CacheConnectionError);
    const tolerant = (await createCache(`${url}?ignore_exceptions=true`)) as RedisCache;
    expect(await tolerant.get('a', 'default')).toBe('default');
    await tolerant.close();
  });
});

describe('RedisCache with a wrong password (requirepass)', () => {
  let server: RedisTestServer;

  beforeAll(async () => {
    server = await startRedis({ password: 'right-password' });
  });
  afterAll(() => server?.stop());

  it("fails the first operation with CacheConnectionError caused by the server's WRONGPASS, never naming the password", async () => {
    const error = (await firstOutcome((await createCache(`redis://:wrong-password@127.0.0.1:${server.port}/0`)) as RedisCache)) as Error;
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect(error.cause).toBeInstanceOf(RedisReplyError);
    expect((error.cause as RedisReplyError).code).toBe('WRONGPASS');
    expect(error.message).toContain('WRONGPASS');
    expect(error.message).not.toContain('wrong-password');
  });

  it("without a password, each command fails with CacheConnectionError caused by the server's NOAUTH", async () => {
    const cache = (await createCache(`redis://127.0.0.1:${server.port}/0`)) as RedisCache;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = (await cache.get('a').catch((failure: unknown) => failure)) as Error;
        expect(error).toBeInstanceOf(CacheConnectionError);
        expect((error.cause as RedisReplyError).code).toBe('NOAUTH');
      }
      // In a batch too (a pipeline's error replies are values, but NOAUTH fails the session).
      await expect(cache.setMany({ a: 1, b: 2 })).rejects.toBeInstanceOf(CacheConnectionError);
    } finally {
      await cache.close();
    }
  });

  it('with ignoreExceptions, a session without the password the server wants is an outage too', async () => {
    const tolerant = (await createCache(`redis://127.0.0.1:${server.port}/0?ignore_exceptions=true`)) as RedisCache;
    try {
      expect(await tolerant.get('a', 'default')).toBe('default');
      expect(await tolerant.add('a', 1)).toBe(false);
      expect(await tolerant.getMany(['a', 'b'])).toEqual(new Map());
    } finally {
      await tolerant.close();
    }
  });

  it('with ignoreExceptions, a refused session is an outage: a miss, not an exception', async () => {
    const tolerant = (await createCache(`redis://:wrong-password@127.0.0.1:${server.port}/0?ignore_exceptions=true`)) as RedisCache;
    try {
      expect(await tolerant.get('a', 'default')).toBe('default');
      await expect(tolerant.set('a', 1)).resolves.toBeUndefined();
      expect(await tolerant.add('a', 1)).toBe(false);
    } finally {
      await tolerant.close();
    }
  });
});
