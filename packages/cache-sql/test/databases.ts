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
  /**
   * An application client for `options.client` that counts the statements it runs
   * (`statements.count`), to check how many round trips an operation takes.
   */
  countingClient(): { client: unknown; statements: { count: number } };
  stop(): Promise<void>;
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
  return Promise.resolve({
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
  });
}

async function startPostgresDatabase(): Promise<TestDatabase> {
  const server = await startPostgres();
  const pools: pg.Pool[] = [];
  const newPool = (): pg.Pool => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    // Idle connections see the server stop at the end; the tests' own pools ignore that.
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  };
  const rawPool = newPool();
  return {
    name: 'postgres',
    url: server.url,
    server,
    async raw(sql, params = []) {
      let index = 0;
      const result = await rawPool.query(sql.replace(/\?/g, () => `$${++index}`), params);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    countingClient() {
      const pool = newPool();
      const statements = { count: 0 };
      const client = {
        query: (...args: Parameters<pg.Pool['query']>) => {
          statements.count++;
          return pool.query(...args);
        },
        connect: () => pool.connect(),
      };
      return { client, statements };
    },
    async stop() {
      await Promise.all(pools.map((pool) => pool.end()));
      await server.stop();
    },
  };
}

async function startMariaDbDatabase(): Promise<TestDatabase> {
  const server = await startMariaDb();
  const pools: mysql.Pool[] = [];
  const newPool = (): mysql.Pool => {
    const pool = mysql.createPool({ uri: server.url, connectionLimit: 2 });
    pools.push(pool);
    return pool;
  };
  const rawPool = newPool();
  return {
    name: 'mariadb',
    url: server.url,
    server,
    async raw(sql, params = []) {
      const [result] = await rawPool.query(sql, params);
      return Array.isArray(result)
        ? { rows: result as Record<string, unknown>[], rowCount: result.length }
        : { rows: [], rowCount: (result as mysql.ResultSetHeader).affectedRows };
    },
    countingClient() {
      const pool = newPool();
      const statements = { count: 0 };
      const client = {
        query: (...args: Parameters<mysql.Pool['query']>) => {
          statements.count++;
          return pool.query(...args);
        },
        execute: pool.execute.bind(pool),
      };
      return { client, statements };
    },
    async stop() {
      await Promise.all(pools.map((pool) => pool.end()));
      await server.stop();
    },
  };
}

export const DATABASE_TARGETS: DatabaseTarget[] = [
  { name: 'sqlite', skip: undefined, start: startSqlite },
  { name: 'postgres', skip: await serverSkipReason('postgres'), start: startPostgresDatabase },
  { name: 'mariadb', skip: await serverSkipReason('mariadb'), start: startMariaDbDatabase },
];
