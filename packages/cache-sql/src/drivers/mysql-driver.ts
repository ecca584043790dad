import type Mysql from 'mysql2';
import type MysqlPromise from 'mysql2/promise';
import type { QueryResult, SqlDriver } from '../dialects/dialect';
import { StatementTooLargeError } from '../connection-errors';
import { loadDriverPackage } from './load-driver';
import type { PoolSettings } from './postgres-driver';
import { positiveInteger, type UrlValueRule } from './url-values';

type PromiseQueryable = Pick<MysqlPromise.Pool, 'query'> & { format?: (sql: string, values: unknown[]) => string };

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

// MariaDB's and MySQL's smallest max_allowed_packet: a statement this short never needs the server's.
const SMALLEST_PACKET_LIMIT = 1024;

/**
 * An upper bound on the bytes `value` takes in the statement mysql2 sends (it escapes parameters
 * into the SQL text): a UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4),
 * doubled by a backslash at worst, plus quotes, or `X''` around a buffer's hex. `undefined` when
 * there is no cheap bound.
 */
function escapedSizeBound(value: unknown): number | undefined {
  if (typeof value === 'string') return value.length * 6 + 2;
  if (Buffer.isBuffer(value)) return value.length * 2 + 3;
  // The longest is '-1.7976931348623157e+308'.
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return 32;
  return undefined;
}

function statementSizeBound(sql: string, params: readonly unknown[]): number | undefined {
  let bound = sql.length * 3;
  for (const param of params) {
    const size = escapedSizeBound(param);
    if (size === undefined) return undefined;
    bound += size;
  }
  return bound;
}

/**
 * Refuses, before sending it, a statement longer than the server's `max_allowed_packet`: the server
 * would refuse it too, but only after reading it, and then it closes the connection. The limit is
 * asked once per pool or connection; a new one set with `SET GLOBAL` later still gets the server's
 * own refusal. Only a statement whose cheap size bound could be over the limit is formatted (as
 * mysql2 formats it: a client without `format` is not checked) to measure it exactly.
 */
function packetSizeCheck(client: PromiseQueryable, timeoutMs: number): (sql: string, params: readonly unknown[]) => Promise<void> {
  let limit: Promise<number> | undefined;
  const askLimit = async (): Promise<number> => {
    const [rows] = await client.query({ sql: 'SELECT @@max_allowed_packet AS packet_limit', timeout: timeoutMs });
    return Number((rows as Array<{ packet_limit: unknown }>)[0]!.packet_limit);
  };
  return async (sql, params) => {
    const bound = statementSizeBound(sql, params);
    if ((bound !== undefined && bound < SMALLEST_PACKET_LIMIT) || client.format === undefined) return;
    const packetLimit = await (limit ??= askLimit().catch((error: unknown) => {
      limit = undefined;
      throw error;
    }));
    if (bound !== undefined && bound < packetLimit) return;
    // The packet is the COM_QUERY command byte and the statement's text.
    const packetSize = 1 + Buffer.byteLength(client.format(sql, params as unknown[]));
    if (packetSize > packetLimit) throw new StatementTooLargeError(packetSize, packetLimit);
  };
}

export function mysqlDriver(client: PromiseQueryable, queryTimeoutSeconds: number, close: () => Promise<void>): SqlDriver {
  const timeout = queryTimeoutSeconds * 1000;
  const checkPacketSize = packetSizeCheck(client, timeout);
  return {
    async query(sql, params = []) {
      if (params.length > 0) await checkPacketSize(sql, params);
      const [result] = await client.query({ sql, values: params as unknown[], timeout });
      return toQueryResult(result);
    },
    async executeScript(statements) {
      // DDL commits implicitly in MySQL: one statement after another.
      for (const sql of statements) await client.query({ sql, timeout });
    },
    close,
  };
}

/** The values of a mysql:// URL's query checked when the cache is made (see `UrlValueRule`). */
export const MYSQL_URL_VALUE_RULES: Readonly<Record<string, UrlValueRule>> = {
  maxPreparedStatements: positiveInteger,
};

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
