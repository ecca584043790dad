import { EXPIRES, INTEGER_MARKER, KEY, VALUE, expiresIndexName, formatUtcTimestamp, rowPlaceholders, tableDefinition, type Dialect } from './dialect';
import { onConflictAddSql, onConflictUpsertSql, returningIncrSql, sqliteDialect } from './sqlite';

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `?` → `$1`, `$2`, …: statements hold no `?` in literals or names (table names cannot contain one). */
function numberPlaceholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

const [key, value, expires] = [quoteName(KEY), quoteName(VALUE), quoteName(EXPIRES)];

/**
 * One statement for Django's count-then-write: the count is an MVCC read (no locks), and the rows
 * are inserted only when no cull is due. Parameters: maxEntries, the rows, and `now` for an add.
 */
function countedWriteSql(table: string, write: { rowCount: number } | 'add'): string {
  const rowCount = write === 'add' ? 1 : write.rowCount;
  const onlyOverExpired = write === 'add' ? ` WHERE ${quoteName(table)}.${expires} <= ?` : '';
  return (
    `WITH counted AS (SELECT COUNT(*) AS count FROM ${quoteName(table)}), ` +
    `room AS (SELECT count <= ? AS free FROM counted), ` +
    `written AS (INSERT INTO ${quoteName(table)} (${key}, ${value}, ${expires}) ` +
    `SELECT k, v, e::timestamptz FROM (VALUES ${rowPlaceholders(rowCount)}) AS new_rows (k, v, e) WHERE (SELECT free FROM room) ` +
    `ON CONFLICT (${key}) DO UPDATE SET ${value} = excluded.${value}, ${expires} = excluded.${expires}${onlyOverExpired} RETURNING 1) ` +
    `SELECT (SELECT count FROM counted) AS count, (SELECT COUNT(*) FROM written) AS written`
  );
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  title: 'PostgreSQL',
  driverPackage: 'pg',
  quoteName,
  toDriverSql: numberPlaceholders,
  // An explicit UTC offset: the server's and the session's time zones never matter.
  zonelessExpires: false,
  formatTimestamp: (epochSeconds, wholeSeconds) => `${formatUtcTimestamp(epochSeconds, wholeSeconds)}+00`,
  expiresAsText: (column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`,
  createTableSql(table, { ifNotExists }) {
    const ifAbsent = ifNotExists ? 'IF NOT EXISTS ' : '';
    return [
      `CREATE TABLE ${ifAbsent}${quoteName(table)} ${tableDefinition(quoteName, { value: 'text', expires: 'timestamp with time zone' })}\n);`,
      `CREATE INDEX ${ifAbsent}${quoteName(expiresIndexName(table))} ON ${quoteName(table)} (${quoteName(EXPIRES)});`,
    ];
  },
  tableExistsSql: 'SELECT 1 AS found FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
  upsertSql: (table, rowCount) => onConflictUpsertSql(quoteName, table, rowCount),
  addStatements: (table, row) => [{ sql: onConflictAddSql(quoteName, table), params: [row.key, row.value, row.expires, row.now] }],
  countedWriteSql,
  incrSql: (table) => returningIncrSql(quoteName, table, `substr(${value}, ${INTEGER_MARKER.length + 1})::bigint`),
  incrementResult: sqliteDialect.incrementResult,
};
