import { ValueTooLargeError } from '@cachette/cache-core';
import { serverSkipReason, startMariaDb, type TestServer } from '@cachette/test-servers';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCache } from '../src/index';

// Small, so the whole statement is written before the server refuses it and closes the
// connection: with a large one the write itself can fail first (ECONNRESET, a CacheConnectionError).
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

  const rows = async (): Promise<number> => {
    const [result] = await raw.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM size_limit');
    return Number(result[0]!.n);
  };

  it('rejects with ValueTooLargeError, the driver error as its cause, and writes no row', async () => {
    const cache = new SqlCache({ location: server.url, options: { table: 'size_limit' } });
    try {
      await cache.set('small', 'fits');
      const oversized = cache.set('large', 'x'.repeat(PACKET_LIMIT + 1));
      await expect(oversized).rejects.toBeInstanceOf(ValueTooLargeError);
      await expect(oversized).rejects.toMatchObject({ cause: { code: 'ER_NET_PACKET_TOO_LARGE' } });
      expect(await rows()).toBe(1);
    } finally {
      await cache.close();
    }
  });
});
