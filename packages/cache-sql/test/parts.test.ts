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
import { decodeValue, encodeValue } from '../src/value-encoding';
import { v8Serializer } from '@cachette/cache-core';

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
    expect(encodeValue(-42, v8Serializer)).toBe('int:-42');
    expect(encodeValue(1.5, v8Serializer)).toBe(v8Serializer.serialize(1.5).toString('base64'));
    expect(encodeValue('int:7', v8Serializer)).not.toMatch(/^int:/);
    for (const value of [0, -42, 2 ** 53 - 1, 'int:7', { nested: [1, 'two'] }, null]) expect(decodeValue(encodeValue(value, v8Serializer), v8Serializer)).toEqual(value);
    expect(parseStoredInteger('int:9007199254740993')).toBe(undefined);
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
