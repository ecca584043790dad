import { InvalidCacheBackendError, commonParamsFromUrl, parseCacheUrl } from '@cachette/cache-core';
import { throwsOnly } from '@cachette/test-servers/fuzz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { databaseConnection, sqlitePath } from '../src/connection';
import { SqlCache } from '../src/sql-cache';

const RUNS = 2000;
const SETTINGS = { poolSize: 1, connectTimeoutSeconds: 1, queryTimeoutSeconds: 1 };

/**
 * What Cachette itself reads of a database URL: the cache's parameters, the dialect, and for
 * SQLite the file. (PostgreSQL and MySQL URLs are read by their drivers, on the first query.)
 */
function readUrl(url: string): string | undefined {
  const parsed = parseCacheUrl(url);
  const { location } = SqlCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed));
  const { dialect } = databaseConnection({ ...SETTINGS, location });
  return dialect.name === 'sqlite' ? sqlitePath(location as string) : undefined;
}

/** Pieces of database URLs, broken escapes included, in any order. */
const databaseUrlSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom('sqlite://', 'sqlite:///', 'postgres://', 'mysql://', 'mariadb://', ':memory:', '/', ':', '@', '?', '&', '=', '#'),
      fc.constantFrom('%', '%zz', '%E0', '%E0%A4', '%20', 'table=', 'max_entries=', 'cull_frequency=', 'sslmode=', 'timeout='),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

describe('fuzzing database URLs', () => {
  it('any string gives a database or InvalidCacheBackendError (never a URIError or TypeError)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), databaseUrlSoup), (url) => throwsOnly(InvalidCacheBackendError, () => readUrl(url))),
      { numRuns: RUNS },
    );
  });

  it('a written SQLite URL reads back its file, whatever characters the path holds', () => {
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const path = `/${segments.join('/')}`;
        expect(readUrl(`sqlite://${segments.map((part) => `/${encodeURIComponent(part)}`).join('')}?table=t`)).toBe(path);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(['sqlite:///tmp/%zz.db', 'sqlite:///caf%E9.db', 'sqlite://%'])('rejects the malformed escape in %s with InvalidCacheBackendError', (url) => {
    expect(() => readUrl(url)).toThrow(InvalidCacheBackendError);
  });
});
