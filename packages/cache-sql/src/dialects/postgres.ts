import { EXPIRES, INTEGER_MARKER, VALUE, expiresIndexName, formatUtcTimestamp, tableDefinition, type Dialect } from './dialect';
import { onConflictAddSql, onConflictUpsertSql, returningIncrSql, sqliteDialect } from './sqlite';

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `?` → `$1`, `$2`, …: statements hold no `?` in literals or names (table names cannot contain one). */
function numberPlaceholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

export const postgresDialect: Dialect = {
  name: 'postgres',
  title: 'PostgreSQL',
  driverPackage: 'pg',
  quoteName,
  toDriverSql: numberPlaceholders,
  // An explicit UTC offset: the server's and the session's time zones never matter.
  formatTimestamp: (epochSeconds) => `${formatUtcTimestamp(epochSeconds)}+00`,
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
  incrSql: (table) => returningIncrSql(quoteName, table, `substr(${quoteName(VALUE)}, ${INTEGER_MARKER.length + 1})::bigint`),
  incrementResult: sqliteDialect.incrementResult,
};
