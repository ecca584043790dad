import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

/** Every cache of one suite shares one table, as Django's test aliases share one LOCATION. */
function sqlCache(params: CacheParams, location: string | undefined, extra: SqlCacheOptions = {}): SqlCache {
  return new SqlCache({ ...params, location, options: { ...params.options, table: TABLE, ...extra } });
}

describe('SQLite file database', () => {
  const directory = mkdtempSync(join(tmpdir(), 'cachette-sql-conformance-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  registerConformanceSuite(api, {
    name: 'sqlite file',
    createCache: (params) => sqlCache(params, `sqlite://${join(directory, 'cache.db')}`),
    capabilities,
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
    afterAll(() => server?.stop());
    registerConformanceSuite(api, {
      name: kind,
      createCache: (params) => sqlCache(params, server.url, { poolSize: 2 }),
      capabilities,
    });
    // incr takes another path with pickle (compare-and-set), on each database's SQL.
    registerConformanceSuite(api, {
      name: `${kind} pickle`,
      createCache: (params) => sqlCache(params, server.url, { poolSize: 2, serializer: 'pickle', table: `${TABLE} pickle` }),
      capabilities: { ...capabilities, values: 'pickle' },
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
  afterAll(() => pair?.stop());
  registerConformanceSuite(api, {
    name: 'postgres with a replica',
    createCache: (params) => sqlCache(params, pair.primary.url, { poolSize: 2, replicas: [pair.replica.url] }),
    capabilities,
  });
});
