import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerConformanceSuite, type Capabilities } from '@cachette/cache-conformance';
import type { CacheParams } from '@cachette/cache-core';
import { postgresReplicationSkipReason, serverSkipReason, startMariaDb, startPostgres, startPostgresReplication, type PostgresReplication, type TestServer } from '@cachette/test-servers';
import { SqlCache, type SqlCacheOptions } from '../src/index';

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

const capabilities: Partial<Capabilities> = {
  // incr is one UPDATE (with pickle, a read and a compare-and-set UPDATE), atomic in every database.
  atomicIncr: true,
  // Django's database culling: expired rows, then the smallest keys, when the count exceeds the maximum.
  culling: { afterCull: 29, afterZeroCull: 18 },
  touchRevivesExpired: false,
  timeoutGranularity: 1,
  values: 'v8',
};

// Django's test table name has spaces, to prove that names are quoted.
const TABLE = 'test cache table';

/** Counts a table's rows on the database's own driver, behind the cache's back. */
type RowCounter = (table: string) => Promise<number>;

function sqliteRowCounter(database: Database.Database): RowCounter {
  return async (table) => (database.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
}

/** A counter over one connection, opened on first use (the server starts in `beforeAll`); `close` ends it. */
function serverRowCounter(kind: 'postgres' | 'mariadb', url: () => string): { count: RowCounter; close: () => Promise<void> } {
  let pool: pg.Pool | mysql.Pool | undefined;
  const close = async (): Promise<void> => {
    await pool?.end();
  };
  const count: RowCounter = async (table) => {
    if (kind === 'postgres') {
      if (!pool) {
        pool = new pg.Pool({ connectionString: url(), max: 1 });
        // The server stops right after the suite and may end the idle connection first: nothing to report.
        pool.on('error', () => {});
      }
      const result = await (pool as pg.Pool).query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${table}"`);
      return Number(result.rows[0]!.n);
    }
    pool ??= mysql.createPool({ uri: url(), connectionLimit: 1 });
    const [rows] = await (pool as mysql.Pool).query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]!.n);
  };
  return { count, close };
}

/** Every cache of one suite shares one table, as Django's test aliases share one LOCATION. */
function sqlCache(params: CacheParams, location: string | undefined, extra: SqlCacheOptions = {}): SqlCache {
  return new SqlCache({ ...params, location, options: { ...params.options, table: TABLE, ...extra } });
}

describe('SQLite file database', () => {
  const directory = mkdtempSync(join(tmpdir(), 'cachette-sql-conformance-'));
  let rawDatabase: Database.Database | undefined;
  afterAll(() => {
    rawDatabase?.close();
    rmSync(directory, { recursive: true, force: true });
  });
  registerConformanceSuite(api, {
    name: 'sqlite file',
    createCache: (params) => sqlCache(params, `sqlite://${join(directory, 'cache.db')}`),
    capabilities,
    // Opened on first use: the cache creates the database file and its table.
    storedEntryCount: () => sqliteRowCounter((rawDatabase ??= new Database(join(directory, 'cache.db'), { timeout: 10_000 })))(TABLE),
  });
});

// One in-memory database exists per connection: the caches of a suite share the application's handle.
for (const [name, serializer] of [
  ['sqlite memory', 'v8'],
  ['sqlite memory json', 'json'],
  ['sqlite memory pickle', 'pickle'],
] as const) {
  describe(`SQLite in-memory database, ${serializer} serializer`, () => {
    const database = new Database(':memory:');
    afterAll(() => database.close());
    registerConformanceSuite(api, {
      name,
      createCache: (params) => sqlCache(params, undefined, { client: database, serializer }),
      capabilities: { ...capabilities, values: serializer },
      storedEntryCount: () => sqliteRowCounter(database)(TABLE),
    });
  });
}

for (const [kind, start] of [
  ['postgres', startPostgres],
  ['mariadb', startMariaDb],
] as const) {
  const skip = await serverSkipReason(kind);
  describe.skipIf(skip)(`${kind}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await start();
    });
    const rowCounter = serverRowCounter(kind, () => server.url);
    // The raw connection ends first: a server stopping under an idle one would raise an error.
    afterAll(async () => {
      await rowCounter.close();
      await server?.stop();
    });
    registerConformanceSuite(api, {
      name: kind,
      createCache: (params) => sqlCache(params, server.url, { poolSize: 2 }),
      capabilities,
      storedEntryCount: () => rowCounter.count(TABLE),
    });
    // incr takes another path with pickle (compare-and-set), on each database's SQL.
    registerConformanceSuite(api, {
      name: `${kind} pickle`,
      createCache: (params) => sqlCache(params, server.url, { poolSize: 2, serializer: 'pickle', table: `${TABLE} pickle` }),
      capabilities: { ...capabilities, values: 'pickle' },
      storedEntryCount: () => rowCounter.count(`${TABLE} pickle`),
    });
  });
}

// Reads on a streaming replica, writes on the primary. Replication is synchronous (remote_apply),
// so a read right after a write sees it, as the suite expects of one database.
const replicaSkip = await postgresReplicationSkipReason();
describe.skipIf(replicaSkip)(`postgres with a read replica${replicaSkip ? ` (skipped: ${replicaSkip})` : ''}`, () => {
  let pair: PostgresReplication;
  beforeAll(async () => {
    pair = await startPostgresReplication({ synchronous: true });
  });
  // Counted on the primary, where every write lands.
  const rowCounter = serverRowCounter('postgres', () => pair.primary.url);
  afterAll(async () => {
    await rowCounter.close();
    await pair?.stop();
  });
  registerConformanceSuite(api, {
    name: 'postgres with a replica',
    createCache: (params) => sqlCache(params, pair.primary.url, { poolSize: 2, replicas: [pair.replica.url] }),
    capabilities,
    storedEntryCount: () => rowCounter.count(TABLE),
  });
});
