import { CacheConnectionError, InvalidCacheBackendError, createCache, registerCacheScheme } from '@cachette/cache-core';
import { generateTlsFiles, serverSkipReason, startRedis, type RedisTestServer } from '@cachette/test-servers';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisClient } from './client';
import { RedisCache } from './index';

/**
 * The security rules: every command goes out as a RESP array of length-prefixed bulk strings,
 * so no key or value can end a command early; and TLS verifies the server's certificate unless
 * told, explicitly, not to.
 */

const skip = await serverSkipReason('redis');
const tlsSkip = await serverSkipReason('redis', { tls: true });
const title = (name: string, reason: string | undefined): string => `${name}${reason ? ` (skipped: ${reason})` : ''}`;
// The registry would load the built package by name; tests use the sources.
registerCacheScheme('redis', RedisCache);
registerCacheScheme('rediss', RedisCache);

/** A whole RESP command, and an inline one, that would empty the server if they were ever read as commands. */
const PAYLOADS: Array<[string, string]> = [
  ['a RESP FLUSHALL', '\r\n*1\r\n$8\r\nFLUSHALL\r\n'],
  ['an inline FLUSHALL', 'x\r\nFLUSHALL\r\n'],
  ['a bare LF and an inline FLUSHALL', 'x\nFLUSHALL\n'],
  ['a bulk length that lies', '$1\r\nx\r\n*1\r\n$8\r\nFLUSHALL\r\n'],
];

/** One RESP command over a connection of its own, so what the server did is read without our client. */
async function askRaw(server: RedisTestServer, command: string[]): Promise<string> {
  const socket = net.connect(server.port, '127.0.0.1');
  try {
    return await new Promise<string>((resolve, reject) => {
      let reply = '';
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
        // Replies asked for here are one bulk string or one integer, whole once their last CRLF is in.
        const bulk = /^\$(\d+)\r\n/.exec(reply);
        if (bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n')) resolve(reply);
      });
      socket.write(`*${command.length}\r\n${command.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`);
    });
  } finally {
    socket.destroy();
  }
}

/** How many times the server ran FLUSHALL or FLUSHDB since its statistics were reset. */
async function flushesRun(server: RedisTestServer): Promise<number> {
  const stats = await askRaw(server, ['INFO', 'commandstats']);
  return [...stats.matchAll(/^cmdstat_flush(?:all|db):calls=(\d+)/gm)].reduce((sum, [, calls]) => sum + Number(calls), 0);
}

describe.skipIf(skip)(title('Redis commands are length-prefixed', skip), () => {
  let server: RedisTestServer;
  let client: RedisClient;
  beforeAll(async () => {
    server = await startRedis();
    client = new RedisClient(server.url);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await client.flushdb();
    await client.call('CONFIG', 'RESETSTAT');
    await client.set('sentinel', 'kept');
  });

  /** Only the sentinel and `expected` keys exist, and no flush ran. */
  async function expectNothingElseHappened(expectedKeys: number): Promise<void> {
    expect(await flushesRun(server)).toBe(0);
    expect(await askRaw(server, ['DBSIZE'])).toBe(`:${expectedKeys + 1}\r\n`);
    expect(await askRaw(server, ['GET', 'sentinel'])).toBe('$4\r\nkept\r\n');
  }

  it.each(PAYLOADS)('the client stores a key and a value with %s verbatim', async (_, payload) => {
    const key = `k${payload}`;
    await client.set(key, payload);
    await client.call('HSET', `h${payload}`, payload, payload);
    await client.pipeline().set(`p${payload}`, payload).exec();
    expect((await client.get(key))?.toString('latin1')).toBe(payload);
    expect(String(await client.call('HGET', `h${payload}`, payload))).toBe(payload);
    expect((await client.get(`p${payload}`))?.toString('latin1')).toBe(payload);
    // Read back over the raw connection too: the server holds exactly these bytes under exactly this key.
    expect(await askRaw(server, ['GET', key])).toBe(`$${payload.length}\r\n${payload}\r\n`);
    await expectNothingElseHappened(3);
  });

  it.each(PAYLOADS)('RedisCache stores a key, a key prefix and a value with %s verbatim', async (_, payload) => {
    const cache = new RedisCache({ location: server.url, keyPrefix: payload });
    try {
      await cache.set(`k${payload}`, payload);
      await cache.setMany({ [`m${payload}`]: payload });
      expect(await cache.get(`k${payload}`)).toBe(payload);
      expect(await cache.getMany([`m${payload}`])).toEqual(new Map([[`m${payload}`, payload]]));
      await expectNothingElseHappened(2);
    } finally {
      await cache.close();
    }
  });
});

describe.skipIf(tlsSkip)(title('Redis TLS verification', tlsSkip), () => {
  let server: RedisTestServer;
  let ca: Buffer;
  beforeAll(async () => {
    const files = await generateTlsFiles();
    ca = files.ca;
    server = await startRedis({ tls: files });
  });
  afterAll(() => server?.stop());

  const tlsUrl = (host = '127.0.0.1'): string => `rediss://${host}:${server.tlsPort}`;

  /** The outcome of one round trip: the value read back, or the error. */
  async function tryRoundTrip(client: RedisClient): Promise<unknown> {
    try {
      await client.set('tls', 'secret');
      return (await client.get('tls'))?.toString();
    } catch (error) {
      return error;
    } finally {
      await client.close();
    }
  }

  it('rediss:// verifies the certificate: an unknown CA fails with a CacheConnectionError naming the problem', async () => {
    const error = await tryRoundTrip(new RedisClient({ url: tlsUrl(), connectTimeout: 5_000 }));
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('tls: true without a URL verifies the certificate too', async () => {
    const error = await tryRoundTrip(new RedisClient({ host: '127.0.0.1', port: server.tlsPort!, tls: true, connectTimeout: 5_000 }));
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('the CA given in tls.ca is trusted, for localhost and for 127.0.0.1', async () => {
    expect(await tryRoundTrip(new RedisClient({ url: tlsUrl(), tls: { ca } }))).toBe('secret');
    expect(await tryRoundTrip(new RedisClient({ url: tlsUrl('localhost'), tls: { ca } }))).toBe('secret');
  });

  it('a certificate for another name fails even with the right CA', async () => {
    const error = await tryRoundTrip(new RedisClient({ url: tlsUrl(), tls: { ca, servername: 'cache.example.org' }, connectTimeout: 5_000 }));
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/altnames|certificate/i);
  });

  it('only tls: { rejectUnauthorized: false } turns verification off', async () => {
    expect(await tryRoundTrip(new RedisClient({ url: tlsUrl(), tls: { rejectUnauthorized: false } }))).toBe('secret');
  });

  /** What one write by a cache configured by `url` ends with: `undefined`, or the error, at creation or on the write. */
  const outcomeOfUrl = (url: string): Promise<unknown> =>
    createCache(url).then((cache) => cache.set('k', 'v').finally(() => cache.close())).catch((error: unknown) => error);

  it('RedisCache from a rediss:// URL verifies the certificate', async () => {
    expect(await outcomeOfUrl(tlsUrl())).toMatchObject({ name: 'CacheConnectionError', message: expect.stringMatching(/certificate/i) });
  });

  it.each(['reject_unauthorized=false', 'rejectUnauthorized=false', 'ssl_cert_reqs=none'])(
    'a URL cannot turn verification off: ?%s is refused or ignored',
    async (query) => {
      const outcome = await outcomeOfUrl(`${tlsUrl()}?${query}`);
      const refused = outcome instanceof InvalidCacheBackendError;
      const unverified = outcome instanceof CacheConnectionError && /certificate/i.test(outcome.message);
      expect(refused || unverified, String(outcome)).toBe(true);
    },
  );
});
