import { EXPIRES, INTEGER_MARKER, KEY, VALUE, expiresIndexName, formatUtcTimestamp, parseStoredInteger, rowPlaceholders, tableDefinition, type Dialect } from './dialect';

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Insert, or replace the row when its key exists: shared by SQLite and PostgreSQL. */
export function onConflictUpsertSql(quote: (name: string) => string, table: string, rowCount: number, condition = ''): string {
  const [key, value, expires] = [quote(KEY), quote(VALUE), quote(EXPIRES)];
  return (
    `INSERT INTO ${quote(table)} (${key}, ${value}, ${expires}) VALUES ${rowPlaceholders(rowCount)} ` +
    `ON CONFLICT (${key}) DO UPDATE SET ${value} = excluded.${value}, ${expires} = excluded.${expires}${condition}`
  );
}

/** `add`: the same upsert, replacing only a row that has expired. */
export function onConflictAddSql(quote: (name: string) => string, table: string): string {
  return onConflictUpsertSql(quote, table, 1, ` WHERE ${quote(table)}.${quote(EXPIRES)} <= ?`);
}

/** An increment by `UPDATE … RETURNING`, given how the dialect reads the digits after the marker as an integer. */
export function returningIncrSql(quote: (name: string) => string, table: string, storedInteger: string): string {
  const [key, value, expires] = [quote(KEY), quote(VALUE), quote(EXPIRES)];
  const isInteger = `substr(${value}, 1, ${INTEGER_MARKER.length}) = '${INTEGER_MARKER}'`;
  // CASE keeps the conversion from running on values that are not integers.
  const current = `CASE WHEN ${isInteger} THEN ${storedInteger} END`;
  return (
    `UPDATE ${quote(table)} SET ${value} = '${INTEGER_MARKER}' || (${storedInteger} + ?) ` +
    `WHERE ${key} = ? AND ${expires} > ? AND ${isInteger} AND ${current} + ? BETWEEN ? AND ? RETURNING ${value}`
  );
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  title: 'SQLite',
  driverPackage: 'better-sqlite3',
  quoteName,
  toDriverSql: (sql) => sql,
  zonelessExpires: true,
  formatTimestamp: formatUtcTimestamp,
  // The column holds the text that was bound (SQLite has no date type), as Django's rows do.
  expiresAsText: (column) => column,
  createTableSql(table, { ifNotExists }) {
    const ifAbsent = ifNotExists ? 'IF NOT EXISTS ' : '';
    return [
      `CREATE TABLE ${ifAbsent}${quoteName(table)} ${tableDefinition(quoteName, { value: 'text', expires: 'datetime' })}\n);`,
      `CREATE INDEX ${ifAbsent}${quoteName(expiresIndexName(table))} ON ${quoteName(table)} (${quoteName(EXPIRES)});`,
    ];
  },
  tableExistsSql: `SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?`,
  upsertSql: (table, rowCount) => onConflictUpsertSql(quoteName, table, rowCount),
  addStatements: (table, row) => [{ sql: onConflictAddSql(quoteName, table), params: [row.key, row.value, row.expires, row.now] }],
  incrSql: (table) => returningIncrSql(quoteName, table, `CAST(substr(${quoteName(VALUE)}, ${INTEGER_MARKER.length + 1}) AS INTEGER)`),
  incrementResult: (result) => (result.rows.length > 0 ? parseStoredInteger(result.rows[0]![VALUE]) : undefined),
};
