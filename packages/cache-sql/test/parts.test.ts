import mysql from 'mysql2';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { InvalidCacheBackendError } from '@cachette/cache-core';
import { redactUrlPassword } from '@cachette/cache-core';
import { databaseConnection, sqlitePath } from '../src/connection';
import { formatUtcTimestamp, parseExpiry, parseStoredInteger } from '../src/dialects/dialect';
import { postgresDialect } from '../src/dialects/postgres';
import { loadDriverPackage } from '../src/drivers/load-driver';
import { storedKey } from '../src/stored-key';
import { rowEncoding } from '../src/value-encoding';
import { wallClock } from '../src/wall-clock';
import { SqlCache } from '../src/index';
import { SerializationError, dumpPickle, pickleSerializer, v8Serializer } from '@cachette/cache-core';

const settings = { poolSize: 1, connectTimeoutSeconds: 1, queryTimeoutSeconds: 1 };

describe('optional drivers', () => {
  it('a missing driver package is an InvalidCacheBackendError that says what to install', () => {
    expect(() => loadDriverPackage('cachette-driver-that-does-not-exist', 'Imaginary')).toThrow(InvalidCacheBackendError);
    expect(() => loadDriverPackage('cachette-driver-that-does-not-exist', 'Imaginary')).toThrow(
      "The Imaginary cache needs the 'cachette-driver-that-does-not-exist' package: install it with `npm install cachette-driver-that-does-not-exist`",
    );
  });

  it('finds an installed driver', () => {
    expect(typeof loadDriverPackage<typeof pg>('pg', 'PostgreSQL').Pool).toBe('function');
  });
});

describe('connections', () => {
  it('recognises each kind of application client without connecting', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/db' });
    const client = new pg.Client({ connectionString: 'postgres://nobody@127.0.0.1:1/db' });
    const mysqlPool = mysql.createPool({ uri: 'mysql://nobody@127.0.0.1:1/db' });
    expect(databaseConnection({ ...settings, client: pool }).dialect.name).toBe('postgres');
    expect(databaseConnection({ ...settings, client }).dialect.name).toBe('postgres');
    expect(databaseConnection({ ...settings, client: mysqlPool }).dialect.name).toBe('mysql');
    expect(databaseConnection({ ...settings, client: mysqlPool.promise() }).dialect.name).toBe('mysql');
    expect(() => databaseConnection({ ...settings, client: {} })).toThrow(/better-sqlite3 Database, a pg Pool or Client, or a mysql2 pool/);
    expect(() => databaseConnection({ ...settings, client: pool, dialect: 'mysql' })).toThrow(TypeError);
    await Promise.all([pool.end(), new Promise((resolve) => mysqlPool.end(resolve))]);
  });

  it('describes a URL without its password, and reads SQLite paths', () => {
    expect(redactUrlPassword('postgres://app:s3cr%40t@db:5432/app')).toBe('postgres://app:***@db:5432/app');
    expect(redactUrlPassword('mysql://app@db/app')).toBe('mysql://app@db/app');
    expect(sqlitePath('sqlite:///var/lib/app/cache%20file.db?table=x')).toBe('/var/lib/app/cache file.db');
    expect(sqlitePath('sqlite://:memory:')).toBe(':memory:');
  });
});

describe('stored values and keys', () => {
  it('stores safe integers as int:<decimal> and everything else as base64 of the serializer bytes', () => {
    const { encode, decode, django } = rowEncoding(v8Serializer);
    expect(django).toBe(false);
    expect(encode(-42)).toBe('int:-42');
    expect(encode(1.5)).toBe(v8Serializer.serialize(1.5).toString('base64'));
    expect(encode('int:7')).not.toMatch(/^int:/);
    for (const value of [0, -42, 2 ** 53 - 1, 'int:7', { nested: [1, 'two'] }, null]) expect(decode(encode(value))).toEqual(value);
    expect(parseStoredInteger('int:9007199254740993')).toBe(undefined);
  });

  it("with the pickle serializer, stores every value, integers too, as base64 of its pickle, as Django does", () => {
    const { encode, decode, django } = rowEncoding(pickleSerializer);
    expect(django).toBe(true);
    expect(encode(42)).toBe(dumpPickle(42).toString('base64'));
    for (const value of [0, -42, 2n ** 100n, 'int:7', { nested: [1, 'two'] }, null]) expect(decode(encode(value))).toEqual(value);
    expect(() => decode('int:42')).toThrow(SerializationError);
  });

  it("writes expiries as Django does with the pickle serializer: truncated to the second, datetime.max for never", () => {
    expect(formatUtcTimestamp(1_700_000_000.999, true)).toBe('2023-11-14 22:13:20');
    expect(formatUtcTimestamp(1_700_000_000.999)).toBe('2023-11-14 22:13:20.999000');
    expect(formatUtcTimestamp(Number.POSITIVE_INFINITY, true)).toBe('9999-12-31 23:59:59');
    expect(formatUtcTimestamp(Number.POSITIVE_INFINITY)).toBe('9999-12-31 23:59:59.000000');
    expect(parseExpiry('2023-11-14 22:13:20')).toBe(1_700_000_000);
    // datetime.max written by Django in a session west of UTC (USE_TZ = False on PostgreSQL).
    expect(parseExpiry('10000-01-01 05:59:59.000000')).toBe(null);
  });

  it("reads and writes expiries on Django's local clock (USE_TZ = False), across daylight saving time", () => {
    const chicago = wallClock('America/Chicago');
    const winter = Date.UTC(2024, 0, 15, 12) / 1000;
    expect(chicago.toWall(winter)).toBe(winter - 6 * 3600);
    expect(chicago.fromWall(winter - 6 * 3600)).toBe(winter);
    // 2024-03-10 08:00 UTC is 03:00 CDT, the first wall-clock reading after the clocks went forward.
    const afterSpringForward = Date.UTC(2024, 2, 10, 8) / 1000;
    expect(chicago.toWall(afterSpringForward)).toBe(Date.UTC(2024, 2, 10, 3) / 1000);
    expect(chicago.fromWall(Date.UTC(2024, 2, 10, 3) / 1000)).toBe(afterSpringForward);
    expect(chicago.toWall(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(wallClock('UTC').toWall(winter)).toBe(winter);
    expect(() => wallClock('Mars/Olympus_Mons')).toThrow(/Cache option timeZone must be an IANA time zone name/);
    expect(() => new SqlCache({ location: 'sqlite://:memory:', options: { timeZone: 'nowhere' } })).toThrow(TypeError);
  });

  it('keeps keys that fit the column and stores longer ones, or ones with NUL, by digest', () => {
    expect(storedKey(':1:short')).toBe(':1:short');
    const fits = '清'.repeat(255);
    expect(storedKey(fits)).toBe(fits);
    const long = `${'k'.repeat(300)}`;
    const stored = storedKey(long);
    expect(Array.from(stored).length).toBe(255);
    expect(stored.startsWith('k'.repeat(190) + '~')).toBe(true);
    expect(storedKey(`${long}x`)).not.toBe(stored);
    expect(Array.from(storedKey('😀'.repeat(300))).length).toBe(255);
    expect(storedKey('a\0b')).toMatch(/^a\uFFFDb~[0-9a-f]{64}$/);
    expect(storedKey('a\0b')).not.toBe(storedKey('a\uFFFDb'));
  });

  it('writes timestamps in UTC with microseconds, clamped to the years the databases hold', () => {
    expect(formatUtcTimestamp(0)).toBe('1970-01-01 00:00:00.000000');
    expect(formatUtcTimestamp(1_700_000_000.25)).toBe('2023-11-14 22:13:20.250000');
    expect(formatUtcTimestamp(-5)).toBe('1970-01-01 00:00:00.000000');
    expect(formatUtcTimestamp(Number.POSITIVE_INFINITY)).toBe('9999-12-31 23:59:59.000000');
    expect(formatUtcTimestamp(1e15)).toBe('9999-12-31 23:59:59.000000');
    expect(postgresDialect.formatTimestamp(0)).toBe('1970-01-01 00:00:00.000000+00');
  });

  it('reads expiries back to the millisecond, the far-future ones (ours and Django datetime.max) as never', () => {
    expect(parseExpiry(formatUtcTimestamp(1_700_000_000.25))).toBe(1_700_000_000.25);
    expect(parseExpiry('2023-11-14 22:13:20')).toBe(1_700_000_000);
    expect(parseExpiry(formatUtcTimestamp(Number.POSITIVE_INFINITY))).toBeNull();
    expect(parseExpiry('9999-12-31 23:59:59.999999')).toBeNull();
  });

  it('numbers PostgreSQL placeholders in order', () => {
    expect(postgresDialect.toDriverSql('SELECT ? WHERE a = ? AND b IN (?, ?)')).toBe('SELECT $1 WHERE a = $2 AND b IN ($3, $4)');
  });
});
