import { InvalidCacheBackendError } from '@cachette/cache-core';
import { throwsOnly } from '@cachette/test-servers/fuzz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asClusterUrl, parseClusterUrl, parseRedisUrl } from './url';

const RUNS = 2000;

/** Pieces of Redis URLs, broken escapes and odd hosts included, in any order. */
const redisUrlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('redis://', 'rediss://', 'unix://', 'redis+cluster://', 'redis+unix://', '://', ':', '/', '@', '?', '&', '=', ',', '[', ']', '[::1]'),
      fc.constantFrom('%', '%zz', '%E0', '%E0%A4', '%FF', '%40', 'db=', 'protocol=', 'password=', 'client_name=', '6379', '99999', '-1', '1e3', 'localhost'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

const anyUrl = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), redisUrlSoup);

/** `parse(url)` gives options or InvalidCacheBackendError; nothing else. */
function parsesSafely(parse: (url: string) => unknown, url: string): void {
  throwsOnly(InvalidCacheBackendError, () => parse(url));
}

const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((address) => `[${address}]`));
const port = fc.integer({ min: 1, max: 65535 });
/** Credentials of any Unicode text, as they are written in a URL: %-escaped. */
const credential = fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), { nil: undefined });

describe('fuzzing Redis URLs', () => {
  it('any string gives connection options or InvalidCacheBackendError (never a URIError or TypeError)', () => {
    fc.assert(
      fc.property(anyUrl, (url) => {
        parsesSafely(parseRedisUrl, url);
        parsesSafely(parseClusterUrl, url);
        parsesSafely(parseClusterUrl, asClusterUrl(url));
      }),
      { numRuns: RUNS },
    );
  });

  it('a written URL reads back its host, port, database and credentials', () => {
    fc.assert(
      fc.property(fc.boolean(), host, port, fc.nat(15), credential, credential, (tls, hostName, portNumber, db, username, password) => {
        const userinfo = username === undefined && password === undefined ? '' : `${encodeURIComponent(username ?? '')}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@`;
        const options = parseRedisUrl(`${tls ? 'rediss' : 'redis'}://${userinfo}${hostName}:${portNumber}/${db}`);
        expect(options).toEqual({
          host: new URL(`redis://${hostName}`).hostname.replace(/^\[(.*)\]$/, '$1'),
          port: portNumber,
          db,
          ...(tls ? { tls } : {}),
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('a written cluster URL reads back every seed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.domain(), fc.ipV4()), port), { minLength: 1, maxLength: 4 }), (nodes) => {
        const { seeds } = parseClusterUrl(`redis+cluster://${nodes.map(([name, portNumber]) => `${name}:${portNumber}`).join(',')}`);
        expect(seeds).toEqual(nodes.map(([name, portNumber]) => `${new URL(`redis://${name}`).hostname}:${portNumber}`));
      }),
      { numRuns: 500 },
    );
  });

  it.each(['redis://us%zzer:pw@host', 'redis://user:p%E0@host', 'unix:///run/%zz.sock', 'redis+cluster://u:%@h:1'])(
    'rejects the malformed escape in %s with InvalidCacheBackendError',
    (url) => {
      expect(() => (url.includes('+cluster') ? parseClusterUrl(url) : parseRedisUrl(url))).toThrow(InvalidCacheBackendError);
    },
  );
});
