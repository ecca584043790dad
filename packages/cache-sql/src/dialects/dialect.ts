import { InvalidCacheBackendError } from '@cachette/cache-core';

/** What a query returns, whatever the driver: rows for SELECT/RETURNING, counts for the rest. */
export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Rows deleted, inserted or matched by an UPDATE (matched, not merely changed). */
  rowCount: number;
  /** MySQL's `LAST_INSERT_ID(expr)` channel, used to return the result of an increment. */
  insertId?: number | string;
}

/** A connection (pool) to one database, as the cache uses it. Statements use `?` placeholders. */
export interface SqlDriver {
  query(sql: string, params?: readonly unknown[]): Promise<QueryResult>;
  /** Runs statements without parameters in one transaction where the database allows DDL in one. */
  executeScript(statements: readonly string[]): Promise<void>;
  /** Releases the pool, unless it was the application's own client. */
  close(): Promise<void>;
}

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** Column names, as Django's DatabaseCache names them. */
export const KEY = 'cache_key';
export const VALUE = 'value';
export const EXPIRES = 'expires';

/**
 * The SQL of one database family: quoting, types, and the statements whose syntax differs.
 * Statements are written with `?` placeholders; `toDriverSql` turns them into the driver's.
 */
export interface Dialect {
  readonly name: DialectName;
  /** For messages: `SQLite`, `PostgreSQL`, `MySQL/MariaDB`. */
  readonly title: string;
  /** The optional peer dependency that talks to this database. */
  readonly driverPackage: string;
  quoteName(name: string): string;
  toDriverSql(sql: string): string;
  /**
   * The `expires` column holds a wall-clock reading with no zone (SQLite text, MySQL DATETIME),
   * not an instant (PostgreSQL's timestamptz): the cache's `timeZone` option applies.
   */
  readonly zonelessExpires: boolean;
  /**
   * An expiry as the bound parameter the `expires` column compares with; `wholeSeconds` truncates
   * it and leaves out the fraction, as Django writes `expires`.
   */
  formatTimestamp(epochSeconds: number, wholeSeconds?: boolean): string;
  /**
   * SQL giving the `expires` column (quoted, as passed) as UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]`,
   * so reading an expiry never depends on how the driver or the session converts dates.
   */
  expiresAsText(column: string): string;
  /** `CREATE TABLE` and its index on `expires`, Django's layout with this database's types. */
  createTableSql(table: string, options: { ifNotExists: boolean }): string[];
  /** One parameter, the table's name; a row comes back when the table exists. */
  readonly tableExistsSql: string;
  /** Insert or replace `rowCount` rows: parameters key, value, expires for each. */
  upsertSql(table: string, rowCount: number): string;
  /**
   * Store only when the key is absent or expired, atomically: parameters key, value, expires, now.
   * The value was stored when the last statement's rowCount is positive.
   */
  addStatements(table: string, row: { key: string; value: string; expires: string; now: string }): Statement[];
  /**
   * Where the database can count and write in one statement (PostgreSQL): the culling count and
   * an upsert (`rowCount` rows) or an add (one row, then `now`), run only when the count is at
   * most the first parameter, `maxEntries`. One row comes back: `count` (before the write) and
   * `written` (rows stored). When `count` exceeds the maximum nothing was written.
   */
  countedWriteSql?(table: string, write: { rowCount: number } | 'add'): string;
  /**
   * Adds the second parameter to an integer value, keeping the expiry, in one statement that
   * matches nothing when the key is missing, expired, not an integer or would leave the safe range.
   * Parameters: delta, key, now, delta, lowest, highest.
   */
  incrSql(table: string): string;
  /** The new value from the increment's result, or `undefined` when it matched nothing. */
  incrementResult(result: QueryResult): number | undefined;
}

/** Stored integers are `int:<decimal>` in the value column so that SQL can increment them. */
export const INTEGER_MARKER = 'int:';

// Table names are quoted, and restricted so that quoting stays trivially correct everywhere: no
// quote, backslash, dot, semicolon or control character can reach the SQL text. Spaces stay
// allowed because Django quotes its table name too, so a Django table may have them. 55
// characters leave room for the index name `<table>_expires` within PostgreSQL's and MySQL's limits.
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_ $-]{0,54}$/;

/** The table name, checked; anything else throws `InvalidCacheBackendError` before any SQL is built. */
export function checkTableName(table: unknown): string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new InvalidCacheBackendError(
      `Cache option table must be 1–55 letters, digits, spaces, '_', '$' or '-', starting with a letter or '_'; got ${typeof table === 'string' ? JSON.stringify(table) : String(table)}`,
    );
  }
  return table;
}

const NEVER = '9999-12-31 23:59:59';
const LATEST_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
const EARLIEST_DATE_MS = Date.UTC(1970, 0, 1);

/**
 * UTC as `YYYY-MM-DD HH:MM:SS.ffffff`, which all three databases read and which sorts as text;
 * with `wholeSeconds`, truncated to `YYYY-MM-DD HH:MM:SS`, Python's `str()` of Django's
 * `datetime.utcfromtimestamp(expiry).replace(microsecond=0)` (and of `datetime.max` for "never").
 */
export function formatUtcTimestamp(epochSeconds: number, wholeSeconds = false): string {
  const unclamped = wholeSeconds ? Math.floor(epochSeconds) * 1000 : Math.round(epochSeconds * 1000);
  const milliseconds = Math.min(Math.max(unclamped, EARLIEST_DATE_MS), LATEST_DATE_MS);
  if (milliseconds === LATEST_DATE_MS) return wholeSeconds ? NEVER : `${NEVER}.000000`;
  const text = new Date(milliseconds).toISOString().replace('T', ' ');
  return wholeSeconds ? text.slice(0, 19) : `${text.slice(0, 23)}000`;
}

/** The timestamp that means "never expires": Django's `datetime.max`, to the second. */
export const NEVER_EPOCH_SECONDS = LATEST_DATE_MS / 1000;

/**
 * An expiry read back as `expiresAsText` gives it: epoch seconds (to the millisecond), or `null`
 * for the far-future expiry that stands for "never" (ours, or Django's `datetime.max`).
 */
export function parseExpiry(text: string): number | null {
  // Django with USE_TZ = False on PostgreSQL writes `datetime.max` in the session's zone: west of
  // UTC, that is in year 10000.
  if (/^\d{5}/.test(text)) return null;
  const epochSeconds = Date.parse(`${text.slice(0, 10)}T${text.slice(11, 23)}Z`) / 1000;
  return epochSeconds >= NEVER_EPOCH_SECONDS ? null : epochSeconds;
}

/** Reads `int:<decimal>` back, or `undefined` for anything else. */
export function parseStoredInteger(stored: unknown): number | undefined {
  if (typeof stored !== 'string' || !stored.startsWith(INTEGER_MARKER)) return undefined;
  const number = Number(stored.slice(INTEGER_MARKER.length));
  return Number.isSafeInteger(number) ? number : undefined;
}

/** The pieces of Django's table, shared by every dialect's `CREATE TABLE`. */
export function tableDefinition(quote: (name: string) => string, types: { value: string; expires: string }): string {
  return `(\n    ${quote(KEY)} varchar(255) NOT NULL PRIMARY KEY,\n    ${quote(VALUE)} ${types.value} NOT NULL,\n    ${quote(EXPIRES)} ${types.expires} NOT NULL`;
}

/** `(?, ?, ?), (?, ?, ?), …`: the VALUES of `rowCount` cache rows. */
export function rowPlaceholders(rowCount: number): string {
  return Array.from({ length: rowCount }, () => '(?, ?, ?)').join(', ');
}

export function expiresIndexName(table: string): string {
  return `${table}_expires`;
}
