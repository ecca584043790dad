import { CacheConnectionError, InvalidCacheBackendError, commonParamsFromUrl, parseCacheUrl } from '@cachette/cache-core';
import { closedPort } from '@cachette/test-servers';
import { rejectsOnly, throwsOnly } from '@cachette/test-servers/fuzz';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { databaseConnection, sqlitePath } from '../src/connection';
import { MYSQL_URL_PARAMETERS } from '../src/drivers/mysql-driver';
import { POSTGRES_URL_PARAMETERS } from '../src/drivers/postgres-driver';
import { SqlCache } from '../src/sql-cache';

const RUNS = 2000;
const SETTINGS = { poolSize: 1, connectTimeoutSeconds: 1, queryTimeoutSeconds: 1 };

/**
 * What Cachette itself reads of a database URL: the cache's parameters, the dialect, and for
 * SQLite the file. (PostgreSQL and MySQL URLs are read by their drivers, on the first query.)
 */
function readUrl(url: string): string | undefined {
  const location = locationOf(url);
  const { dialect } = databaseConnection({ ...SETTINGS, location });
  return dialect.name === 'sqlite' ? sqlitePath(location) : undefined;
}

function locationOf(url: string): string {
  const parsed = parseCacheUrl(url);
  return SqlCache.paramsFromUrl(parsed, commonParamsFromUrl(parsed)).location as string;
}

/**
 * Then what the PostgreSQL and MySQL drivers read of it when the first query makes their pool
 * (no I/O yet; SQLite's would create the file, and its path is checked above).
 */
async function openServerPool(url: string): Promise<void> {
  const connection = databaseConnection({ ...SETTINGS, location: locationOf(url) });
  if (connection.dialect.name !== 'sqlite') await connection.open().close();
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

  it("any string that names PostgreSQL or MySQL gives the driver's pool or InvalidCacheBackendError", async () => {
    await fc.assert(
      fc.asyncProperty(databaseUrlSoup, (url) => rejectsOnly([InvalidCacheBackendError], () => openServerPool(url))),
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

/**
 * Whatever a server URL holds in its user, password, database and query (a value of any
 * parameter the driver reads, except those that choose another host), the first operation
 * against a closed loopback port fails with a typed error: a URL the driver cannot use with
 * InvalidCacheBackendError, the refused connection with CacheConnectionError.
 */
describe('fuzzing PostgreSQL and MySQL URLs up to the first query', () => {
  // Parameters that choose another host or socket, and mysql2's `debug`, which prints every packet.
  const NOT_FUZZED = new Set(['host', 'hostaddr', 'port', 'socketPath', 'localAddress', 'debug']);
  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('%', '%zz', '%E0', '{', '{"rejectUnauthorized":false}', 'true', '0', '-1', 'require', 'verify-full', '/nonexistent'));
  // Unencoded text too, but none that moves the host away from the closed port (a fuzzed host
  // name would be looked up in DNS): the soup above already fuzzes the URL's shape.
  const raw = fc.oneof(text.map(encodeURIComponent), text.filter((part) => !/[/?#@\\]/.test(part)));
  const url = (scheme: string, parameters: readonly string[], port: number) =>
    fc
      .tuple(raw, raw, raw, fc.array(fc.tuple(fc.constantFrom(...parameters.filter((name) => !NOT_FUZZED.has(name))), text), { maxLength: 3 }))
      .map(([user, password, database, query]) => `${scheme}://${user}:${password}@127.0.0.1:${port}/${database}?${new URLSearchParams(query)}`);

  it.each(['postgres', 'mysql'])('%s: a host name the resolver cannot look up is a CacheConnectionError', async (scheme) => {
    const cache = new SqlCache({ location: `${scheme}://user:secret@\u{323B0}:5432/db`, options: { connectTimeout: 1, createTable: false } });
    try {
      await expect(cache.get('key')).rejects.toBeInstanceOf(CacheConnectionError);
    } finally {
      await cache.close();
    }
  });

  it.each([
    ['postgres', POSTGRES_URL_PARAMETERS],
    ['mysql', MYSQL_URL_PARAMETERS],
  ])('%s: InvalidCacheBackendError or CacheConnectionError, never another error or a hang', async (scheme, parameters) => {
    const port = await closedPort();
    await fc.assert(
      fc.asyncProperty(url(scheme, parameters, port), async (location) => {
        let cache: SqlCache | undefined;
        await rejectsOnly([InvalidCacheBackendError, CacheConnectionError], async () => {
          cache = new SqlCache({ location, options: { connectTimeout: 1, queryTimeout: 1, createTable: false } });
          await cache.get('key');
          throw new Error(`a query against closed port ${port} succeeded`);
        });
        await cache?.close();
      }),
      { numRuns: 150 },
    );
  });
});
