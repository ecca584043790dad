import { InvalidCacheBackendError, commonParamsFromUrl, parseCacheUrl } from '@cachette/cache-core';
import { throwsOnly } from '@cachette/test-servers/fuzz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcachedCache } from './memcached-cache';
import { parseServers } from './servers';

const RUNS = 2000;

/** The location and options `url` configures, as MemcachedCache reads them, and its servers. */
function readUrl(url: string) {
  const parsed = parseCacheUrl(url);
  const params = MemcachedCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed));
  return { options: params.options as Record<string, unknown>, servers: parseServers(params.location as string[]) };
}

/** Pieces of memcached URLs, broken escapes and odd servers included, in any order. */
const memcachedUrlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('memcached://', 'memcached:///', 'unix:', '/', ':', '@', ',', ';', '?', '[', ']', '[::1]', '%2C', '%', '%zz', '%E0', '%C3%A9'),
      fc.constantFrom('11211', '0', '65536', '-1', '1.5', 'host', 'protocol=binary', 'username='),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

const server = fc.record({
  host: fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6()),
  port: fc.integer({ min: 1, max: 65535 }),
  weight: fc.integer({ min: 1, max: 100 }),
});
const credential = fc.string({ unit: 'binary', maxLength: 12 });

describe('fuzzing memcached URLs', () => {
  it('any string gives servers or InvalidCacheBackendError (never a URIError or TypeError)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), memcachedUrlSoup), (url) => throwsOnly(InvalidCacheBackendError, () => readUrl(url))),
      { numRuns: RUNS },
    );
  });

  it('a written URL reads back its servers, weights and credentials', () => {
    fc.assert(
      fc.property(fc.array(server, { minLength: 1, maxLength: 4 }), credential, credential, (servers, username, password) => {
        const list = servers.map(({ host, port, weight }) => `${host.includes(':') ? `[${host}]` : host}:${port}:${weight}`).join(',');
        const { options, servers: read } = readUrl(`memcached://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${list}`);
        expect(options).toEqual({ username, password });
        expect(read).toEqual(servers.map(({ host, port, weight }) => ({ address: { host, port }, weight })));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(['memcached://%zz', 'memcached://u%E0:pw@host', 'memcached://user:%@host'])('rejects the malformed escape in %s with InvalidCacheBackendError', (url) => {
    expect(() => readUrl(url)).toThrow(InvalidCacheBackendError);
  });
});
