import { CacheConnectionError, InvalidCacheBackendError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { MemcachedCache } from '../src/index';
import { tlsMemcachedForSuite } from './tls-memcached';

const credentials = { username: 'cachette', password: 'open sesame' };
const saslSkip = await serverSkipReason('memcached', { sasl: true });
const tlsSkip = await serverSkipReason('memcached', { tls: true });
const unixSkip = await serverSkipReason('memcached', { unixSocket: true });
// The registry would load the built package by name; tests use the sources.
registerCacheScheme('memcached', MemcachedCache);

const title = (name: string, skip: string | undefined): string => `${name}${skip ? ` (skipped: ${skip})` : ''}`;

async function roundTrip(client: MemcachedClient): Promise<string | undefined> {
  await client.set('transport', Buffer.from('over the wire ✓'));
  const value = (await client.getMany(['transport', 'missing'])).get('transport')?.value.toString();
  await client.close();
  return value;
}

describe.skipIf(saslSkip)(title('SASL PLAIN against memcached -S', saslSkip), () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMemcached({ sasl: credentials });
  });
  afterAll(() => server.stop());

  it('authenticates on each connection and then works', async () => {
    expect(await roundTrip(new MemcachedClient(server.url, { protocol: 'binary', ...credentials }))).toBe('over the wire ✓');
  });

  it('picks the binary protocol when credentials are given, as SASL needs it', async () => {
    const client = new MemcachedClient(server.url, credentials);
    expect(client.protocol).toBe('binary');
    expect(await roundTrip(client)).toBe('over the wire ✓');
  });

  it('a wrong password fails every request with CacheConnectionError', async () => {
    const client = new MemcachedClient(server.url, { ...credentials, password: 'wrong' });
    await expect(client.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await client.close();
  });

  it('no credentials: requests are refused with a clear error', async () => {
    const client = new MemcachedClient(server.url, { protocol: 'binary' });
    await expect(client.get('k')).rejects.toThrow(/authentication/);
    await client.close();
  });

  it('credentials from a URL reach the server', async () => {
    const url = `memcached://${credentials.username}:${encodeURIComponent(credentials.password)}@${server.url}`;
    const cache = (await createCache(url)) as MemcachedCache;
    await cache.set('k', { nested: [1, 2] });
    expect(await cache.get('k')).toEqual({ nested: [1, 2] });
    await cache.close();
  });
});

it('SASL with the text protocol is refused at construction', () => {
  expect(() => new MemcachedClient('127.0.0.1:1', { protocol: 'text', ...credentials })).toThrow(InvalidCacheBackendError);
});

describe.skipIf(tlsSkip)(title("TLS against memcached -Z with a certificate made for the test", tlsSkip), () => {
  const suite = tlsMemcachedForSuite();

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: works when the CA is trusted`, async () => {
      expect(await roundTrip(new MemcachedClient(suite.server.url, { protocol, tls: { ca: suite.tls.ca } }))).toBe('over the wire ✓');
    });
  }

  it('refuses a server whose certificate is not trusted', async () => {
    const client = new MemcachedClient(suite.server.url, { tls: true });
    await expect(client.get('k')).rejects.toBeInstanceOf(CacheConnectionError);
    await client.close();
  });
});

describe.skipIf(unixSkip)(title('Unix sockets', unixSkip), () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMemcached({ unixSocket: true });
  });
  afterAll(() => server.stop());

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: unix:/path and a bare path both work`, async () => {
      expect(await roundTrip(new MemcachedClient(`unix:${server.socketPath}`, { protocol }))).toBe('over the wire ✓');
      expect(await roundTrip(new MemcachedClient(server.socketPath!, { protocol }))).toBe('over the wire ✓');
    });
  }

  it('a memcached:// URL with a socket path configures the cache', async () => {
    const cache = (await createCache(`memcached://${server.socketPath}?protocol=binary`)) as MemcachedCache;
    expect(cache.client.protocol).toBe('binary');
    await cache.set('k', 42);
    expect(await cache.incr('k')).toBe(43);
    await cache.close();
  });
});
