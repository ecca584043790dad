import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CacheConnectionError, InvalidCacheBackendError, UnknownCacheOptionError, commonParamsFromUrl, createCache, parseCacheUrl, registerCacheScheme } from '@cachette/cache-core';
import { serverSkipReason, startMariaDb, startPostgres, type TestServer } from '@cachette/test-servers';
import pg from 'pg';
import { SqlCache } from '../src/index';

const KNOWN_OPTIONS =
  'Known options: client, connectTimeout, createTable, cullFrequency, databases, dialect, maxEntries, poolSize, queryTimeout, replicaCooldown, replicas, router, serializer, table, timeZone';
const SQLITE_URL_PARAMETERS =
  'timeout, key_prefix, version, stats, connect_timeout, create_table, cull_frequency, dialect, max_entries, pool_size, query_timeout, replica_cooldown, serializer, table, time_zone';

beforeEach(() => {
  // Every SQL scheme's backend, from these sources rather than the built package.
  for (const scheme of ['sqlite', 'postgres', 'postgresql', 'mysql', 'mariadb']) registerCacheScheme(scheme, SqlCache);
});

describe('SqlCache configuration with unknown names', () => {
  it("refuses sqlite://:memory:?tmeout=5, suggesting 'timeout' and listing the parameters a SQLite URL takes", async () => {
    const error = await createCache('sqlite://:memory:?tmeout=5').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownCacheOptionError);
    expect((error as Error).message).toBe(
      `Unknown query parameter 'tmeout' in the cache URL 'sqlite://:memory:?tmeout=5' (did you mean 'timeout'?). Known query parameters: ${SQLITE_URL_PARAMETERS}`,
    );
  });

  it("refuses options: { maxEntriez: 5 }, suggesting 'maxEntries' and listing the known options", async () => {
    const construct = () => new SqlCache({ location: 'sqlite://:memory:', options: { maxEntriez: 5 } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow(`Unknown option 'maxEntriez' for SqlCache (did you mean 'maxEntries'?). ${KNOWN_OPTIONS}`);
    await expect(createCache({ backend: SqlCache, location: 'sqlite://:memory:', options: { replicaCooldwn: 1 } })).rejects.toThrow("(did you mean 'replicaCooldown'?)");
  });

  it("checks a database URL's query against its driver's parameters, without the password in the message", async () => {
    const postgres = await createCache('postgres://app:s3cret@127.0.0.1:1/app?sslmod=require').catch((caught: unknown) => caught);
    expect(postgres).toBeInstanceOf(UnknownCacheOptionError);
    expect((postgres as UnknownCacheOptionError).suggestion).toBe('sslmode');
    expect((postgres as Error).message).toContain("in the cache URL 'postgres://app:***@127.0.0.1:1/app?sslmod=require'");
    expect((postgres as Error).message).not.toContain('s3cret');
    const mysql = (await createCache('mysql://root@127.0.0.1:1/app?supportBigNumber=true').catch((caught: unknown) => caught)) as UnknownCacheOptionError;
    expect(mysql.suggestion).toBe('supportBigNumbers');
    // A parameter of another database's driver is not one of this one's.
    expect(((await createCache('sqlite://:memory:?sslmode=require').catch((caught: unknown) => caught)) as UnknownCacheOptionError).suggestion).toBeUndefined();
  });

  it('checks the URLs of location, replicas and databases in a configuration object', () => {
    expect(() => new SqlCache({ location: 'sqlite://:memory:?tmeout=5' })).toThrow(UnknownCacheOptionError);
    // The cache's own parameters belong in the object (or a cache URL): in a location URL nothing would read them.
    expect(() => new SqlCache({ location: 'sqlite://:memory:?max_entries=5' })).toThrow(
      "Unknown query parameter 'max_entries' in the cache URL 'sqlite://:memory:?max_entries=5'. Known query parameters: none",
    );
    const primary = 'postgres://app@127.0.0.1:1/app';
    expect(() => new SqlCache({ location: primary, options: { replicas: [`${primary}?aplication_name=r`] } })).toThrow("(did you mean 'application_name'?)");
    expect(() => new SqlCache({ location: primary, options: { databases: { other: `${primary}?sslmode=require&bogus=1` } } })).toThrow("Unknown query parameter 'bogus'");
  });

  it('refuses a database URL its driver could not parse at construction, without the password', async () => {
    for (const url of ['postgres://app:s3cret@127.0.0.1:99999/app', 'mysql://root:s3cret@127.0.0.1:notaport/app', 'postgresql://app:s3cret@[bad/app']) {
      const error = await createCache(url).catch((caught: unknown) => caught);
      expect(error, url).toBeInstanceOf(InvalidCacheBackendError);
      expect((error as Error).message).toMatch(/^'[a-z]+:\/\/\w+:\*\*\*@.*' is not a valid (PostgreSQL|MySQL\/MariaDB) URL/);
    }
  });

  it("takes the cache's options and the drivers' parameters it knows", async () => {
    const url = parseCacheUrl('sqlite://:memory:?table=t1&max_entries=5&replica_cooldown=0&timeout=9&stats=true');
    expect(SqlCache.paramsFromUrl(url, commonParamsFromUrl(url))).toEqual({
      location: 'sqlite://:memory:',
      timeout: 9,
      stats: true,
      options: { table: 't1', maxEntries: 5, replicaCooldown: 0 },
    });
    const sqlite = (await createCache(url.url)) as SqlCache;
    expect([sqlite.table, sqlite.defaultTimeout]).toEqual(['t1', 9]);
    await sqlite.close();
    const postgres = (await createCache('postgres://app@127.0.0.1:1/app?sslmode=disable&application_name=site&connect_timeout=2')) as SqlCache;
    expect(postgres.dialect).toBe('postgres');
    await postgres.close();
    const mysql = (await createCache('mariadb://root@127.0.0.1:1/app?charset=utf8mb4&supportBigNumbers=true')) as SqlCache;
    expect(mysql.dialect).toBe('mysql');
    await mysql.close();
  });
});

// The test rewrites the server's pg_hba.conf: only on a server of its own, never on one named by the environment.
const postgresSkip =
  (await serverSkipReason('postgres')) ?? (process.env.CACHETTE_POSTGRES_URL ? 'CACHETTE_POSTGRES_URL names a server this test may not reconfigure' : undefined);

describe.skipIf(postgresSkip)(`SqlCache on PostgreSQL with a wrong password${postgresSkip ? ` (skipped: ${postgresSkip})` : ''}`, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startPostgres();
    // The test cluster trusts everyone; make it check this role's password, as a production server does.
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query("CREATE ROLE cachette_app LOGIN PASSWORD 'right-password'");
      const { rows } = await admin.query<{ hba_file: string }>('SHOW hba_file');
      const rules = ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256'];
      await admin.query(`COPY (SELECT unnest(ARRAY['${rules.join("','")}'])) TO '${rows[0]!.hba_file}'`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
  });

  afterAll(() => server?.stop());

  it('rejects the first operation with CacheConnectionError naming the failure, the password redacted', async () => {
    const cache = (await createCache(`postgres://cachette_app:wrong-password@${server.host}:${server.port}/postgres`)) as SqlCache;
    const error = await cache.get('a').catch((caught: unknown) => caught);
    await cache.close();
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toContain('password authentication failed for user "cachette_app"');
    expect((error as Error).message).toContain(`postgres://cachette_app:***@${server.host}:${server.port}/postgres`);
    expect((error as Error).message).not.toContain('wrong-password');
  });
});

const mariaDbSkip = await serverSkipReason('mariadb');

describe.skipIf(mariaDbSkip)(`SqlCache on MariaDB with a wrong password${mariaDbSkip ? ` (skipped: ${mariaDbSkip})` : ''}`, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startMariaDb();
  });

  afterAll(() => server?.stop());

  it('rejects the first operation with CacheConnectionError naming the failure, the password redacted', async () => {
    // The test server's root has no password: any password is the wrong one.
    const cache = (await createCache(server.url.replace('mysql://root@', 'mysql://root:wrong-password@'))) as SqlCache;
    const error = await cache.get('a').catch((caught: unknown) => caught);
    await cache.close();
    expect(error).toBeInstanceOf(CacheConnectionError);
    expect((error as Error).message).toMatch(/Access denied for user 'root'/);
    expect((error as Error).message).toContain('mysql://root:***@');
    expect((error as Error).message).not.toContain('wrong-password');
  });
});
