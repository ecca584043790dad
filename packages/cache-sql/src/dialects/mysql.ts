import { EXPIRES, INTEGER_MARKER, KEY, VALUE, expiresIndexName, formatUtcTimestamp, rowPlaceholders, tableDefinition, type Dialect } from './dialect';

const quoteName = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
const [key, value, expires] = [quoteName(KEY), quoteName(VALUE), quoteName(EXPIRES)];

function incrementResult(result: { rowCount: number; insertId?: number | string }): number | undefined {
  if (result.rowCount === 0 || result.insertId === undefined) return undefined;
  const number = Number(result.insertId);
  return Number.isSafeInteger(number) ? number : undefined;
}

export const mysqlDialect: Dialect = {
  name: 'mysql',
  title: 'MySQL/MariaDB',
  driverPackage: 'mysql2',
  quoteName,
  toDriverSql: (sql) => sql,
  // DATETIME(6) holds no zone: Cachette writes and compares UTC (or the cache's timeZone).
  zonelessExpires: true,
  formatTimestamp: formatUtcTimestamp,
  expiresAsText: (column) => `DATE_FORMAT(${column}, '%Y-%m-%d %H:%i:%s.%f')`,
  createTableSql(table, { ifNotExists }) {
    // MySQL has no CREATE INDEX IF NOT EXISTS: the index is part of the one CREATE TABLE.
    // utf8mb4 holds any key; the binary collation keeps keys case-sensitive, as they are everywhere else.
    const ifAbsent = ifNotExists ? 'IF NOT EXISTS ' : '';
    const index = `,\n    INDEX ${quoteName(expiresIndexName(table))} (${expires})`;
    const columns = tableDefinition(quoteName, { value: 'longtext', expires: 'datetime(6)' });
    return [`CREATE TABLE ${ifAbsent}${quoteName(table)} ${columns}${index}\n) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`];
  },
  tableExistsSql: 'SELECT 1 AS found FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
  upsertSql: (table, rowCount) =>
    `INSERT INTO ${quoteName(table)} (${key}, ${value}, ${expires}) VALUES ${rowPlaceholders(rowCount)} ` +
    `ON DUPLICATE KEY UPDATE ${value} = VALUES(${value}), ${expires} = VALUES(${expires})`,
  /**
   * MySQL's affected-row count cannot tell "inserted" from "kept the live row" when the client
   * sets CLIENT_FOUND_ROWS (mysql2's default), so `add` removes an expired row, then inserts
   * unless the key exists: still atomic, since the primary key lets exactly one insert win.
   */
  addStatements: (table, row) => [
    { sql: `DELETE FROM ${quoteName(table)} WHERE ${key} = ? AND ${expires} <= ?`, params: [row.key, row.now] },
    { sql: `INSERT IGNORE INTO ${quoteName(table)} (${key}, ${value}, ${expires}) VALUES (?, ?, ?)`, params: [row.key, row.value, row.expires] },
  ],
  /** No UPDATE … RETURNING: the new value travels back through LAST_INSERT_ID(expr), in the OK packet. */
  incrSql(table) {
    const isInteger = `LEFT(${value}, ${INTEGER_MARKER.length}) = '${INTEGER_MARKER}'`;
    const current = `CAST(SUBSTRING(${value}, ${INTEGER_MARKER.length + 1}) AS SIGNED)`;
    // LAST_INSERT_ID(expr) answers BIGINT UNSIGNED: the CAST brings negative results back.
    return (
      `UPDATE ${quoteName(table)} SET ${value} = CONCAT('${INTEGER_MARKER}', CAST(LAST_INSERT_ID(${current} + ?) AS SIGNED)) ` +
      `WHERE ${key} = ? AND ${expires} > ? AND ${isInteger} AND CASE WHEN ${isInteger} THEN ${current} END + ? BETWEEN ? AND ?`
    );
  },
  incrementResult,
};
