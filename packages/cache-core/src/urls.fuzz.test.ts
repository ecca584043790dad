import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidCacheBackendError } from './errors';
import { commonParamsFromUrl, parseCacheUrl, redactUrlPassword } from './urls';

const RUNS = 2000;

/** Pieces cache URLs are made of, broken escapes and non-ASCII included, in any order. */
const urlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('redis', 'memcached', 'file', 'sqlite', 'X+y.z-', '://', ':', '/', '@', '?', '&', '=', '#', '[', ']', ',', ';'),
      fc.constantFrom('%', '%2', '%zz', '%25', '%41', '%E0', '%E0%A4', '%E0%A4%A8', '%C0%AF', '%FF', '%00', 'timeout', 'key_prefix', 'version', 'stats'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 14 },
  )
  .map((pieces) => pieces.join(''));

const anyUrl = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), urlSoup);

/** Parsing `url` and reading its common parameters gives parameters or InvalidCacheBackendError; nothing else. */
function parsesSafely(url: string): void {
  try {
    commonParamsFromUrl(parseCacheUrl(url));
  } catch (error) {
    if (!(error instanceof InvalidCacheBackendError)) throw error;
  }
}

/** Text for any part of a URL: any Unicode, the URL's own delimiters included. */
const anyText = fc.string({ unit: 'binary', maxLength: 20 });
const optionName = fc.stringMatching(/^[a-z][a-z_]{0,10}$/).filter((name) => !['timeout', 'key_prefix', 'version', 'stats'].includes(name));

describe('fuzzing cache URLs', () => {
  it('any string gives parameters or InvalidCacheBackendError (never a URIError or TypeError)', () => {
    fc.assert(fc.property(anyUrl, parsesSafely), { numRuns: RUNS });
  });

  it('redacting a password never throws and always keeps the scheme', () => {
    fc.assert(
      fc.property(anyUrl, (url) => {
        const redacted = redactUrlPassword(url);
        expect(redacted.slice(0, url.indexOf(':') + 1)).toBe(url.slice(0, url.indexOf(':') + 1));
      }),
      { numRuns: RUNS },
    );
  });

  it('a written URL reads back its scheme, location and options', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9+.-]{0,8}$/), anyText, fc.dictionary(optionName, anyText, { maxKeys: 4 }), (scheme, location, options) => {
        const query = new URLSearchParams(Object.entries(options)).toString();
        const params = commonParamsFromUrl(parseCacheUrl(`${scheme.toUpperCase()}://${encodeURIComponent(location)}${query ? `?${query}` : ''}`));
        expect(params.location).toBe(location);
        for (const [name, text] of Object.entries(options)) {
          const value = (params.options as Record<string, unknown>)[name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())];
          expect(String(value)).toBe(typeof value === 'number' ? String(Number(text)) : text);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a password in the URL never survives redaction', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[A-Z0-9]{1,12}$/), (user, password) => {
        const secret = `Pw${password}`;
        expect(redactUrlPassword(`redis://${user}:${encodeURIComponent(secret)}@host:6379/0`)).not.toContain(secret);
      }),
      { numRuns: 200 },
    );
  });

  it.each(['file:///tmp/%', 'locmem://%zz', 'file:///caf%E9', 'locmem://%E0%A4'])('rejects the malformed escape in %s with InvalidCacheBackendError', (url) => {
    expect(() => commonParamsFromUrl(parseCacheUrl(url))).toThrow(InvalidCacheBackendError);
  });
});
