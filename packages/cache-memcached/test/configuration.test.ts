import { CacheConnectionError, InvalidCacheBackendError, UnknownCacheOptionError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { closedPort, serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedCache } from '../src/index';

const KNOWN_OPTIONS =
  'Known options: connectTimeout, djangoClient, failureLimit, ignoreExceptions, operationTimeout, password, poolSize, protocol, retryTimeout, serializer, tls, username';
// The registry would load the built package by name; tests use the sources.
registerCacheScheme('memcached', MemcachedCache);

describe('MemcachedCache configuration with unknown names', () => {
  it('refuses an unknown option, suggesting the nearest and listing the known ones', async () => {
    const construct = () => new MemcachedCache({ options: { protocl: 'binary' } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow(`Unknown option 'protocl' for MemcachedCache (did you mean 'protocol'?). ${KNOWN_OPTIONS}`);
    await expect(createCache({ backend: MemcachedCache, options: { maxEntries: 5 } })).rejects.toThrow(`Unknown option 'maxEntries' for MemcachedCache. ${KNOWN_OPTIONS}`);
  });

  it('refuses an unknown URL query parameter, without the password in the message', async () => {
    const error = await createCache('memcached://app:s3cret@127.0.0.1:11211?operation_timout=5').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect((error as Error).message).toBe(
      "Unknown query parameter 'operation_timout' in the cache URL 'memcached://app:***@127.0.0.1:11211?operation_timout=5' (did you mean 'operation_timeout'?). " +
        'Known query parameters: timeout, key_prefix, version, stats, connect_timeout, django_client, failure_limit, ignore_exceptions, ' +
        'operation_timeout, password, pool_size, protocol, retry_timeout, serializer, tls, username',
    );
  });

  it('takes the options it knows from a URL', async () => {
    const cache = (await createCache('memcached://127.0.0.1:11211?protocol=binary&pool_size=2&ignore_exceptions=true')) as MemcachedCache;
    expect(cache.client.protocol).toBe('binary');
    await cache.close();
  });

  it('refuses a malformed server list with InvalidCacheBackendError', async () => {
    await expect(createCache('memcached://127.0.0.1:99999')).rejects.toThrow(InvalidCacheBackendError);
    await expect(createCache('memcached://127.0.0.1:99999')).rejects.toThrow(/is not a memcached server/);
  });

  it('an unreachable server fails the first operation with CacheConnectionError, and ignoreExceptions turns it into a miss', async () => {
    const location = `127.0.0.1:${await closedPort()}`;
    const cache = (await createCache(`memcached://${location}?connect_timeout=2`)) as MemcachedCache;
    const error = await cache.get('a').catch((caught: unknown) => caught);
    await cache.close();
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toContain(location);
    const tolerant = (await createCache(`memcached://${location}?ignore_exceptions=true`)) as MemcachedCache;
    expect(await tolerant.get('a', 'default')).toBe('default');
    await tolerant.close();
  });
});

const saslSkip = await serverSkipReason('memcached', { sasl: true });

describe.skipIf(saslSkip)(`MemcachedCache with a wrong SASL password${saslSkip ? ` (skipped: ${saslSkip})` : ''}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMemcached({ sasl: { username: 'cachette', password: 'right-password' } });
  });
  afterAll(() => server.stop());

  it('fails the first operation with CacheConnectionError naming the failure, never the password', async () => {
    const cache = (await createCache(`memcached://cachette:wrong-password@${server.url}`)) as MemcachedCache;
    const error = await cache.get('a').catch((caught: unknown) => caught);
    await cache.close();
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/authentication/i);
    expect((error as Error).message).not.toContain('wrong-password');
  });
});
