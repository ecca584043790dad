import type BetterSqlite3 from 'better-sqlite3';
import type { SqlDriver } from '../dialects/dialect';
import { loadDriverPackage } from './load-driver';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[]>;

// Enough for every statement the cache prepares, including IN lists of different lengths.
const PREPARED_STATEMENT_LIMIT = 256;

/** A driver over a better-sqlite3 database: synchronous calls, prepared once per SQL text. */
export function sqliteDriver(database: Database, ownsDatabase: boolean): SqlDriver {
  const prepared = new Map<string, Statement>();
  function prepare(sql: string): Statement {
    let statement = prepared.get(sql);
    if (!statement) {
      if (prepared.size >= PREPARED_STATEMENT_LIMIT) prepared.clear();
      statement = database.prepare(sql);
      prepared.set(sql, statement);
    }
    return statement;
  }
  return {
    async query(sql, params = []) {
      const statement = prepare(sql);
      if (statement.reader) {
        const rows = statement.all(...params) as Record<string, unknown>[];
        return { rows, rowCount: rows.length };
      }
      return { rows: [], rowCount: statement.run(...params).changes };
    },
    async executeScript(statements) {
      database.transaction(() => {
        for (const sql of statements) database.prepare(sql).run();
      })();
    },
    async close() {
      if (ownsDatabase && database.open) database.close();
    },
  };
}

/** `:memory:` or a file path; a file database uses WAL so readers and one writer do not block each other. */
export function openSqlite(path: string, busyTimeoutSeconds: number): SqlDriver {
  const Database = loadDriverPackage<typeof BetterSqlite3>('better-sqlite3', 'SQLite');
  const database = new Database(path, { timeout: busyTimeoutSeconds * 1000 });
  if (path !== ':memory:' && path !== '') database.pragma('journal_mode = WAL');
  return sqliteDriver(database, true);
}

export function isSqliteDatabase(client: unknown): client is Database {
  return typeof client === 'object' && client !== null && typeof (client as Database).prepare === 'function' && 'inTransaction' in client;
}
