import { randomBytes } from 'node:crypto';
import { ValueTooLargeError } from '@cachette/cache-core';
import { serverSkipReason, startMariaDb, type TestServer } from '@cachette/test-servers';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCache } from '../src/index';

// MariaDB's smallest max_allowed_packet is 1024: a small limit keeps the values small.
const PACKET_LIMIT = 16 * 1024;
const skip = await serverSkipReason('mariadb');

describe.skipIf(skip)(`a value over MariaDB's max_allowed_packet${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let server: TestServer;
  let raw: mysql.Connection;
  beforeAll(async () => {
    server = await startMariaDb();
    raw = await mysql.createConnection({ uri: server.url });
    // Applies to connections opened afterwards: the cache's.
    await raw.query('SET GLOBAL max_allowed_packet = ?', [PACKET_LIMIT]);
  });
  afterAll(async () => {
    await raw?.end();
    await server?.stop();
  });

  const rows = async (table: string): Promise<number> => {
    const [result] = await raw.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(result[0]!.n);
  };

  it('rejects with ValueTooLargeError before sending the statement, and writes no row', async () => {
    const cache = new SqlCache({ location: server.url, options: { table: 'size_limit' } });
    try {
      await cache.set('small', 'fits');
      const oversized = cache.set('large', 'x'.repeat(PACKET_LIMIT + 1));
      await expect(oversized).rejects.toBeInstanceOf(ValueTooLargeError);
      // Not the server's ER_NET_PACKET_TOO_LARGE: the cache measured the statement itself.
      await expect(oversized).rejects.toMatchObject({ cause: { maxAllowedPacket: PACKET_LIMIT }, message: /max_allowed_packet \(16384\), so it was not sent/ });
      await expect(cache.setMany({ a: 'fits', b: 'x'.repeat(PACKET_LIMIT + 1) })).rejects.toBeInstanceOf(ValueTooLargeError);
      await expect(cache.add('added', 'x'.repeat(PACKET_LIMIT + 1))).rejects.toBeInstanceOf(ValueTooLargeError);
      expect(await rows('size_limit')).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('stores a setMany whose values together exceed max_allowed_packet when each fits: they go in several statements', async () => {
    const limit = 6 * 1024 * 1024;
    await raw.query('SET GLOBAL max_allowed_packet = ?', [limit]);
    const cache = new SqlCache({ location: server.url, options: { table: 'size_limit_many' } });
    try {
      // Five values of about 2 MiB each as stored (incompressible text), 10 MiB together.
      const values = Object.fromEntries(Array.from({ length: 5 }, (_, index) => [`key${index}`, randomBytes(1_100_000).toString('base64')]));
      expect(await cache.setMany(values)).toEqual([]);
      expect(await cache.getMany(Object.keys(values))).toEqual(new Map(Object.entries(values)));
      expect(await rows('size_limit_many')).toBe(5);
    } finally {
      await cache.close();
      await raw.query('SET GLOBAL max_allowed_packet = ?', [PACKET_LIMIT]);
    }
  });

  it('keeps the connection: the next statement on the same single connection succeeds', async () => {
    // One connection, not a pool: had the server dropped it, every later statement would fail.
    const connection = await mysql.createConnection({ uri: server.url });
    const cache = new SqlCache({ options: { client: connection, table: 'size_limit_connection' } });
    try {
      await cache.set('before', 1);
      await expect(cache.set('large', 'x'.repeat(PACKET_LIMIT + 1))).rejects.toBeInstanceOf(ValueTooLargeError);
      // Near the limit: measured exactly (its cheap bound is over it), and sent.
      const nearLimit = 'y'.repeat(PACKET_LIMIT / 2);
      await cache.set('near-limit', nearLimit);
      expect(await cache.getMany(['before', 'near-limit'])).toEqual(new Map<string, unknown>([['before', 1], ['near-limit', nearLimit]]));
      expect(await rows('size_limit_connection')).toBe(2);
    } finally {
      await cache.close();
      await connection.end();
    }
  });
});
