import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { serverSkipReason, startMariaDb, startPostgres, type TestServer } from '@cachette/test-servers';
import type { QueryResult } from '../src/dialects/dialect';

/** A database the tests run against: its URL, and a raw connection to look at the tables directly. */
export interface TestDatabase {
  name: 'sqlite' | 'postgres' | 'mariadb';
  url: string;
  /** For the fault-proxy tests: where the server listens. */
  server?: TestServer;
  /** Runs SQL with `?` placeholders outside the cache. */
  raw(sql: string, params?: unknown[]): Promise<QueryResult>;
  /** Whether the catalog lists a table, or an index, of this name. */
  exists(kind: 'table' | 'index', name: string): Promise<boolean>;
  /**
   * An application client for `options.client` that counts the statements it runs
   * (`statements.count`), to check how many round trips an operation takes.
   */
  countingClient(): { client: unknown; statements: { count: number } };
  stop(): Promise<void>;
}

const CATALOG_QUERIES: Record<TestDatabase['name'], Record<'table' | 'index', string>> = {
  sqlite: {
    table: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`,
    index: `SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?`,
  },
  postgres: {
    table: 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
    index: 'SELECT indexname FROM pg_indexes WHERE indexname = ?',
  },
  mariadb: {
    table: 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    index: 'SELECT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = ?',
  },
};

/** The parts every test database has, given how to run raw SQL on it. */
function withCatalog(database: Omit<TestDatabase, 'exists'>): TestDatabase {
  return {
    ...database,
    async exists(kind, name) {
      return (await database.raw(CATALOG_QUERIES[database.name][kind], [name])).rows.length > 0;
    },
  };
}

/** A client that counts the `query` calls it passes on to `queryable`. */
function countingQueries<Q extends { query: (...args: never[]) => unknown }>(queryable: Q): { query: Q['query']; statements: { count: number } } {
  const statements = { count: 0 };
  const query = ((...args: never[]) => {
    statements.count++;
    return queryable.query(...args);
  }) as Q['query'];
  return { query, statements };
}

export interface DatabaseTarget {
  name: TestDatabase['name'];
  /** Why the database cannot be had here, printed in the skipped suite's title. */
  skip: string | undefined;
  start(): Promise<TestDatabase>;
}

function startSqlite(): Promise<TestDatabase> {
  const directory = mkdtempSync(join(tmpdir(), 'cachette-sql-'));
  const path = join(directory, 'cache.db');
  const databases: Database.Database[] = [];
  const open = (): Database.Database => {
    const database = new Database(path, { timeout: 10_000 });
    databases.push(database);
    return database;
  };
  const rawDatabase = open();
  return Promise.resolve(withCatalog({
    name: 'sqlite',
    url: `sqlite://${path}`,
    async raw(sql, params = []) {
      const statement = rawDatabase.prepare(sql);
      if (statement.reader) {
        const rows = statement.all(...params) as Record<string, unknown>[];
        return { rows, rowCount: rows.length };
      }
      return { rows: [], rowCount: statement.run(...params).changes };
    },
    countingClient() {
      const database = open();
      const statements = { count: 0 };
      // Count each execution of a prepared statement; native methods need their own `this`.
      const client = new Proxy(database, {
        get(target, property) {
          if (property === 'prepare') {
            return (sql: string) => {
              const statement = target.prepare(sql);
              return new Proxy(statement, {
                get(inner, name) {
                  const member = Reflect.get(inner, name, inner) as unknown;
                  if (typeof member !== 'function') return member;
                  return (...args: unknown[]) => {
                    if (name === 'all' || name === 'run' || name === 'get') statements.count++;
                    return (member as (...a: unknown[]) => unknown).apply(inner, args);
                  };
                },
              });
            };
          }
          const member = Reflect.get(target, property, target) as unknown;
          return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(target) : member;
        },
      });
      return { client, statements };
    },
    async stop() {
      for (const database of databases) database.close();
      rmSync(directory, { recursive: true, force: true });
    },
  }));
}

interface Pool {
  query: (...args: never[]) => unknown;
  end(): Promise<void>;
}

/** A database on a test server, reached through pools of its driver (closed before the server stops). */
function serverDatabase<P extends Pool>(
  name: TestDatabase['name'],
  server: TestServer,
  openPool: () => P,
  driver: { raw(pool: P, sql: string, params: unknown[]): Promise<QueryResult>; asClient(pool: P, query: P['query']): unknown },
): TestDatabase {
  const pools: P[] = [];
  const newPool = (): P => {
    const pool = openPool();
    pools.push(pool);
    return pool;
  };
  const rawPool = newPool();
  return withCatalog({
    name,
    url: server.url,
    server,
    raw: (sql, params = []) => driver.raw(rawPool, sql, params),
    countingClient() {
      const pool = newPool();
      const { query, statements } = countingQueries(pool);
      return { client: driver.asClient(pool, query), statements };
    },
    async stop() {
      await Promise.all(pools.map((pool) => pool.end()));
      await server.stop();
    },
  });
}

async function startPostgresDatabase(): Promise<TestDatabase> {
  const server = await startPostgres();
  const openPool = (): pg.Pool => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    // Idle connections see the server stop at the end; the tests' own pools ignore that.
    pool.on('error', () => {});
    return pool;
  };
  return serverDatabase('postgres', server, openPool, {
    async raw(pool, sql, params) {
      let index = 0;
      const result = await pool.query(sql.replace(/\?/g, () => `$${++index}`), params);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    asClient: (pool, query) => ({ query, connect: () => pool.connect() }),
  });
}

async function startMariaDbDatabase(): Promise<TestDatabase> {
  const server = await startMariaDb();
  return serverDatabase('mariadb', server, () => mysql.createPool({ uri: server.url, connectionLimit: 2 }), {
    async raw(pool, sql, params) {
      const [result] = await pool.query(sql, params);
      return Array.isArray(result)
        ? { rows: result as Record<string, unknown>[], rowCount: result.length }
        : { rows: [], rowCount: (result as mysql.ResultSetHeader).affectedRows };
    },
    asClient: (pool, query) => ({ query, execute: pool.execute.bind(pool) }),
  });
}

export const DATABASE_TARGETS: DatabaseTarget[] = [
  { name: 'sqlite', skip: undefined, start: startSqlite },
  { name: 'postgres', skip: await serverSkipReason('postgres'), start: startPostgresDatabase },
  { name: 'mariadb', skip: await serverSkipReason('mariadb'), start: startMariaDbDatabase },
];
