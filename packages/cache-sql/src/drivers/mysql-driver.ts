import type Mysql from 'mysql2';
import type MysqlPromise from 'mysql2/promise';
import type { QueryResult, SqlDriver } from '../dialects/dialect';
import { loadDriverPackage } from './load-driver';
import type { PoolSettings } from './postgres-driver';

type PromiseQueryable = Pick<MysqlPromise.Pool, 'query'>;

// An UPDATE's OK packet says "Rows matched: 1  Changed: 0  Warnings: 0"; matched is what counts.
const ROWS_MATCHED = /Rows matched:\s*(\d+)/;

function toQueryResult(result: unknown): QueryResult {
  if (Array.isArray(result)) return { rows: result as Record<string, unknown>[], rowCount: result.length };
  const header = result as MysqlPromise.ResultSetHeader;
  const matched = ROWS_MATCHED.exec(header.info ?? '');
  return { rows: [], rowCount: matched ? Number(matched[1]) : header.affectedRows, insertId: header.insertId };
}

/**
 * The mysql2 connection and pool options a mysql:// URL's query can set (text, numbers, booleans
 * or JSON); the cache refuses any other name rather than let mysql2 ignore a typo.
 */
export const MYSQL_URL_PARAMETERS: readonly string[] = [
  'bigNumberStrings',
  'charset',
  'charsetNumber',
  'compress',
  'connectAttributes',
  'connectTimeout',
  'connectionLimit',
  'dateStrings',
  'debug',
  'decimalNumbers',
  'disableEval',
  'enableCleartextPlugin',
  'enableKeepAlive',
  'flags',
  'gracefulEnd',
  'idleTimeout',
  'insecureAuth',
  'jsonStrings',
  'keepAliveInitialDelay',
  'localAddress',
  'maxIdle',
  'maxPreparedStatements',
  'multipleStatements',
  'namedPlaceholders',
  'nestTables',
  'password1',
  'password2',
  'password3',
  'queueLimit',
  'resetOnRelease',
  'rowsAsArray',
  'socketPath',
  'ssl',
  'stringifyObjects',
  'supportBigNumbers',
  'timezone',
  'trace',
  'waitForConnections',
];

export function mysqlDriver(client: PromiseQueryable, queryTimeoutSeconds: number, close: () => Promise<void>): SqlDriver {
  return {
    async query(sql, params = []) {
      const [result] = await client.query({ sql, values: params as unknown[], timeout: queryTimeoutSeconds * 1000 });
      return toQueryResult(result);
    },
    async executeScript(statements) {
      // DDL commits implicitly in MySQL: one statement after another.
      for (const sql of statements) await client.query({ sql, timeout: queryTimeoutSeconds * 1000 });
    },
    close,
  };
}

export function openMysql(url: string, settings: PoolSettings): SqlDriver {
  const mysql = loadDriverPackage<typeof Mysql>('mysql2', 'MySQL/MariaDB');
  const pool = mysql
    .createPool({
      // mysql2 reads mysql:// URLs; mariadb:// is the same protocol.
      uri: url.replace(/^mariadb:/i, 'mysql:'),
      connectionLimit: settings.poolSize,
      connectTimeout: settings.connectTimeoutSeconds * 1000,
      charset: 'utf8mb4',
    })
    .promise();
  return mysqlDriver(pool, settings.queryTimeoutSeconds, () => pool.end());
}

/** A mysql2 pool or connection, callback-style (it has `promise()`) or from `mysql2/promise`. */
export function asMysqlClient(client: unknown): PromiseQueryable | undefined {
  if (typeof client !== 'object' || client === null || !('execute' in client) || typeof (client as unknown as PromiseQueryable).query !== 'function') {
    return undefined;
  }
  const callbackStyle = client as { promise?: () => PromiseQueryable };
  return typeof callbackStyle.promise === 'function' ? callbackStyle.promise() : (client as unknown as PromiseQueryable);
}
