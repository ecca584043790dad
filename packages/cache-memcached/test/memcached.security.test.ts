import { CacheConnectionError, InvalidCacheBackendError, InvalidCacheKey, createCache, registerCacheScheme } from '@cachette/cache-core';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { liveKeys } from './live-item-count';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src/client';
import { MemcachedCache } from '../src/index';
import { tlsMemcachedForSuite } from './tls-memcached';

/**
 * The security rules: no key, value, flag or exptime can make memcached run a command of its
 * own, on either protocol. Every check reads the server's whole key list afterwards over a
 * connection of its own, so an injected command cannot hide behind the client's view.
 */

const skip = await serverSkipReason('memcached');
const tlsSkip = await serverSkipReason('memcached', { tls: true });
const title = (name: string, reason: string | undefined): string => `${name}${reason ? ` (skipped: ${reason})` : ''}`;
// The registry would load the built package by name; tests use the sources.
registerCacheScheme('memcached', MemcachedCache);

/** A second command each payload tries to slip in: it would store `evil`, or empty the server. */
const INJECTED = 'set evil 0 0 1\r\nx\r\n';

const injectionKeys: Array<[string, string]> = [
  ['CRLF and a command', `k\r\n${INJECTED}`],
  ['a bare LF and a command', 'k\nflush_all'],
  ['a space and noreply', 'k noreply'],
  ['a space and a second key', 'k evil'],
  ['a tab', 'k\tx'],
  ['a NUL byte', 'k\0set'],
  ['a control character', 'k\x01'],
  ['DEL', 'k\x7f'],
  ['251 bytes', 'k'.repeat(251)],
  ['84 three-byte characters (252 bytes)', '鍵'.repeat(84)],
];

const injectionValues: Array<[string, string]> = [
  ['a CRLF and a set command', `x\r\n${INJECTED}`],
  ['a fake end of data and flush_all', 'x\r\n\r\nflush_all\r\n'],
  ['noreply and a bare LF', ' noreply\nset evil 0 0 1\nx\n'],
  ['a binary-protocol set packet', '\x80\x01\x00\x04\x08\x00\x00\x00\x00\x00\x00\x0d'],
];

for (const protocol of ['text', 'binary'] as const) {
  describe.skipIf(skip)(title(`memcached injection, ${protocol} protocol`, skip), () => {
    let server: TestServer;
    let client: MemcachedClient;
    beforeAll(async () => {
      server = await startMemcached();
      client = new MemcachedClient(server.url, { protocol, operationTimeout: 5 });
    });
    afterAll(async () => {
      await client.close();
      await server.stop();
    });
    beforeEach(async () => {
      await client.flushAll();
      await client.set('sentinel', 'kept');
    });

    it.each(injectionKeys)('a key with %s is refused by every command with InvalidCacheKey, and nothing is stored', async (_, key) => {
      const attempts = [
        client.get(key),
        client.gets(key),
        client.getAndTouch(key, 10),
        client.getMany(['ok', key]),
        client.set(key, 'v'),
        client.add(key, 'v'),
        client.replace(key, 'v'),
        client.append(key, 'v'),
        client.cas(key, 'v', 1n),
        client.setMany([['ok', { value: 'v' }], [key, { value: 'v' }]]),
        client.incr(key),
        client.touch(key, 10),
        client.delete(key),
        client.deleteMany(['sentinel', key]),
      ];
      for (const attempt of attempts) await expect(attempt).rejects.toBeInstanceOf(InvalidCacheKey);
      expect(await liveKeys(server)).toEqual(['sentinel']);
    });

    it.each(injectionValues)('a value with %s is stored verbatim and runs nothing', async (_, text) => {
      const value = Buffer.from(text, 'latin1');
      expect(await client.set('one', value)).toBe(true);
      expect(await client.setMany([['two', { value }]])).toEqual([]);
      expect(await client.append('two', value)).toBe(true);
      expect((await client.get('one'))?.value.equals(value)).toBe(true);
      expect((await client.get('two'))?.value.equals(Buffer.concat([value, value]))).toBe(true);
      expect(await liveKeys(server)).toEqual(['one', 'sentinel', 'two']);
    });

    it('flags and exptimes outside what memcached reads are refused with RangeError before anything is sent', async () => {
      const value = `x\r\n${INJECTED}`;
      const attempts = [
        ...[-1, 2 ** 32, 0.5, Number.NaN, 1e21].map((flags) => () => client.set('k', value, { flags })),
        ...[2 ** 31, -(2 ** 31) - 1, 3e9, -1e21, 1e21, 1.5, Number.NaN, Infinity].flatMap((exptime) => [
          () => client.set('k', value, { exptime }),
          () => client.setMany([['k', { value }]], exptime),
          () => client.touch('sentinel', exptime),
          () => client.getAndTouch('sentinel', exptime),
        ]),
      ];
      for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(RangeError);
      expect(await liveKeys(server)).toEqual(['sentinel']);
      expect((await client.get('sentinel'))?.value.toString()).toBe('kept');
    });

    it('the extreme flags and exptimes memcached reads are stored as given', async () => {
      expect(await client.set('high', 'v', { flags: 0xffffffff, exptime: 2 ** 31 - 1 })).toBe(true);
      expect((await client.get('high'))?.flags).toBe(0xffffffff);
      expect(await client.set('low', 'v', { exptime: -(2 ** 31) })).toBe(true);
      expect(await client.get('low')).toBeUndefined();
      expect(await liveKeys(server)).toEqual(['high', 'sentinel']);
    });
  });

  describe.skipIf(skip)(title(`MemcachedCache injection, ${protocol} protocol`, skip), () => {
    let server: TestServer;
    let cache: MemcachedCache;
    beforeAll(async () => {
      server = await startMemcached();
      cache = new MemcachedCache({ location: server.url, options: { protocol, operationTimeout: 5 } });
    });
    afterAll(async () => {
      await cache.close();
      await server.stop();
    });
    beforeEach(() => cache.clear());

    it.each(injectionKeys)("a key with %s throws InvalidCacheKey (Django's key warnings, raised) and stores nothing", async (_, key) => {
      await expect(cache.set(key, 'v')).rejects.toBeInstanceOf(InvalidCacheKey);
      await expect(cache.get(key)).rejects.toBeInstanceOf(InvalidCacheKey);
      await expect(cache.setMany({ ok: 1, [key]: 2 })).rejects.toBeInstanceOf(InvalidCacheKey);
      expect(await liveKeys(server)).toEqual([]);
    });

    it('a non-ASCII key within 250 bytes is stored under its UTF-8 bytes', async () => {
      await cache.set('clé-ключ-鍵', 'v');
      expect(await cache.get('clé-ключ-鍵')).toBe('v');
      expect(await liveKeys(server)).toEqual([':1:clé-ключ-鍵']);
    });

    it.each(injectionValues)('a value with %s round-trips and stores nothing else', async (_, value) => {
      await cache.set('k', value);
      expect(await cache.get('k')).toBe(value);
      expect(await liveKeys(server)).toEqual([':1:k']);
    });

    it('a far-future timeout is kept within what memcached reads, so the entry is stored, not wrapped to expired', async () => {
      await cache.set('far', `x\r\n${INJECTED}`, 1e12);
      expect(await cache.get('far')).toBe(`x\r\n${INJECTED}`);
      await cache.set('past', 'v', -1e12);
      expect(await cache.get('past')).toBeUndefined();
      expect(await liveKeys(server)).toEqual([':1:far']);
    });
  });
}

describe.skipIf(tlsSkip)(title('memcached TLS verification', tlsSkip), () => {
  const suite = tlsMemcachedForSuite();

  /** The outcome of one round trip: the value read back, or the error. */
  async function tryRoundTrip(client: MemcachedClient): Promise<unknown> {
    try {
      await client.set('tls', 'secret');
      return (await client.get('tls'))?.value.toString();
    } catch (error) {
      return error;
    } finally {
      await client.close();
    }
  }

  /** What one write by a cache configured by `url` ends with: `undefined`, or the error, at creation or on the write. */
  const outcomeOfUrl = (url: string): Promise<unknown> =>
    createCache(url).then((cache) => cache.set('k', 'v').finally(() => cache.close())).catch((error: unknown) => error);

  for (const protocol of ['text', 'binary'] as const) {
    it(`${protocol}: tls: true verifies the certificate: an unknown CA fails with a CacheConnectionError naming the problem`, async () => {
      const error = await tryRoundTrip(new MemcachedClient(suite.server.url, { protocol, tls: true }));
      expect(error).toBeInstanceOf(CacheConnectionError);
      expect((error as Error).message).toMatch(/certificate/i);
    });

    it(`${protocol}: the CA given in tls.ca is trusted`, async () => {
      expect(await tryRoundTrip(new MemcachedClient(suite.server.url, { protocol, tls: { ca: suite.tls.ca } }))).toBe('secret');
    });
  }

  it('a certificate for another name fails even with the right CA', async () => {
    const error = await tryRoundTrip(new MemcachedClient(suite.server.url, { tls: { ca: suite.tls.ca, servername: 'cache.example.org' } }));
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/altnames|certificate/i);
  });

  it('only tls: { rejectUnauthorized: false } turns verification off', async () => {
    expect(await tryRoundTrip(new MemcachedClient(suite.server.url, { tls: { rejectUnauthorized: false } }))).toBe('secret');
  });

  it('a URL turns TLS on with verification', async () => {
    expect(await outcomeOfUrl(`memcached://${suite.server.url}?tls=true`)).toMatchObject({ name: 'CacheConnectionError', message: expect.stringMatching(/certificate/i) });
  });

  it.each(['reject_unauthorized=false', 'rejectUnauthorized=false'])('a URL cannot turn verification off: ?%s is refused or ignored', async (query) => {
    const outcome = await outcomeOfUrl(`memcached://${suite.server.url}?tls=true&${query}`);
    const refused = outcome instanceof InvalidCacheBackendError;
    const unverified = outcome instanceof CacheConnectionError && /certificate/i.test(outcome.message);
    expect(refused || unverified, String(outcome)).toBe(true);
  });
});
