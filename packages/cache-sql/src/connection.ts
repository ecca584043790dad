import { CacheError, InvalidCacheBackendError, decodeUrlComponent, redactUrlPassword } from '@cachette/cache-core';
import type { Dialect, DialectName, SqlDriver } from './dialects/dialect';
import { mysqlDialect } from './dialects/mysql';
import { postgresDialect } from './dialects/postgres';
import { sqliteDialect } from './dialects/sqlite';
import { MYSQL_URL_PARAMETERS, MYSQL_URL_VALUE_RULES, asMysqlClient, mysqlDriver, openMysql } from './drivers/mysql-driver';
import { POSTGRES_URL_PARAMETERS, POSTGRES_URL_VALUE_RULES, isPostgresClient, openPostgres, postgresDriver, type PoolSettings } from './drivers/postgres-driver';
import { isSqliteDatabase, openSqlite, sqliteDriver } from './drivers/sqlite-driver';
import type { UrlValueRule } from './drivers/url-values';

const DIALECTS: Record<DialectName, Dialect> = { sqlite: sqliteDialect, postgres: postgresDialect, mysql: mysqlDialect };

const SCHEME_DIALECTS: Record<string, DialectName> = {
  sqlite: 'sqlite',
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
};

/** The query parameters each database's driver reads from its URLs (SQLite's reads none). */
const DRIVER_URL_PARAMETERS: Record<DialectName, readonly string[]> = { sqlite: [], postgres: POSTGRES_URL_PARAMETERS, mysql: MYSQL_URL_PARAMETERS };

/** The query values each server's driver would refuse too late or too badly, checked up front. */
const DRIVER_URL_VALUE_RULES: Record<DialectName, Readonly<Record<string, UrlValueRule>>> = {
  sqlite: {},
  postgres: POSTGRES_URL_VALUE_RULES,
  mysql: MYSQL_URL_VALUE_RULES,
};

/** What a database URL of `scheme` may carry in its query for the driver. */
export function driverUrlParameters(scheme: string): readonly string[] {
  const dialect = SCHEME_DIALECTS[scheme.toLowerCase()];
  return dialect ? DRIVER_URL_PARAMETERS[dialect] : [];
}

/** Where the cache's database is: a URL, or the application's own client. */
export interface ConnectionSettings extends PoolSettings {
  location?: unknown;
  client?: unknown;
  dialect?: DialectName;
}

/** The dialect of a database, and how to open the driver (lazily: nothing connects before the first query). */
export interface DatabaseConnection {
  dialect: Dialect;
  /** For messages: the URL without its password, or "the application's client". */
  description: string;
  open(): SqlDriver;
}

const OPENERS: Record<DialectName, (url: string, settings: PoolSettings) => SqlDriver> = {
  sqlite: (url, settings) => openSqlite(sqlitePath(url), settings.connectTimeoutSeconds),
  postgres: openPostgres,
  mysql: openMysql,
};

const NOT_OWNED = async (): Promise<void> => {};

function dialectOfUrl(url: string): DialectName {
  const scheme = /^([a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase() ?? '';
  const dialect = SCHEME_DIALECTS[scheme];
  if (!dialect) {
    throw new InvalidCacheBackendError(`The SQL cache's location must be a sqlite://, postgres:// or mysql:// URL; got '${redactUrlPassword(url)}'`);
  }
  return dialect;
}


/**
 * A server's URL that its driver could not parse is refused now, not with a bare TypeError or
 * URIError on first use. The user, password and database are %-decoded by the drivers (mysql2
 * throws a URIError for a malformed escape, pg keeps it as written), so a malformed escape there
 * is refused for both.
 */
function checkServerUrl(url: string, dialect: Dialect): void {
  if (!URL.canParse(url)) {
    throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}' is not a valid ${dialect.title} URL (expected ${dialect.name}://user:password@host:port/database)`);
  }
  const { username, password, pathname, searchParams } = new URL(url);
  for (const part of [username, password, pathname]) decodeUrlComponent(part, url);
  const rules = DRIVER_URL_VALUE_RULES[dialect.name];
  for (const [name, value] of searchParams) {
    const problem = Object.hasOwn(rules, name) ? rules[name]!(value) : undefined;
    if (problem !== undefined) throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}': ${name} ${problem}`);
  }
}

/**
 * Making a server driver's pool does no I/O, so whatever fails there is the URL's query or the
 * options (mysql2 refuses an unknown `ssl` profile with a TypeError): a configuration error.
 */
function openServer(dialect: Dialect, url: string, settings: PoolSettings): SqlDriver {
  try {
    return OPENERS[dialect.name](url, settings);
  } catch (error) {
    if (error instanceof CacheError) throw error;
    throw new InvalidCacheBackendError(`The ${dialect.title} driver cannot use '${redactUrlPassword(url)}': ${(error as Error).message}`, { cause: error });
  }
}

/** The file of a sqlite URL: `sqlite:///abs/path.db` → `/abs/path.db`, `sqlite://:memory:` → `:memory:`. */
export function sqlitePath(url: string): string {
  return decodeUrlComponent(url.replace(/^sqlite:(\/\/)?/i, '').replace(/\?.*$/, ''), url);
}

function clientConnection(client: unknown, dialectName: DialectName | undefined, settings: PoolSettings): DatabaseConnection {
  const description = "the application's client";
  if ((dialectName ?? 'sqlite') === 'sqlite' && isSqliteDatabase(client)) {
    return { dialect: sqliteDialect, description, open: () => sqliteDriver(client, false) };
  }
  const mysqlClient = dialectName === 'postgres' ? undefined : asMysqlClient(client);
  if (mysqlClient) return { dialect: mysqlDialect, description, open: () => mysqlDriver(mysqlClient, settings.queryTimeoutSeconds, NOT_OWNED) };
  if (dialectName !== 'mysql' && isPostgresClient(client)) return { dialect: postgresDialect, description, open: () => postgresDriver(client, NOT_OWNED) };
  throw new TypeError(
    'Cache option client must be a better-sqlite3 Database, a pg Pool or Client, or a mysql2 pool or connection' +
      (dialectName ? ` (for dialect '${dialectName}')` : ''),
  );
}

/** Reads `location` / `client` / `dialect` without connecting. */
export function databaseConnection(settings: ConnectionSettings): DatabaseConnection {
  if (settings.client !== undefined) return clientConnection(settings.client, settings.dialect, settings);
  const url = settings.location;
  if (typeof url !== 'string') {
    throw new TypeError("The SQL cache needs a database URL as location (e.g. 'sqlite:///var/cache/app.db') or an options.client");
  }
  const dialect = DIALECTS[dialectOfUrl(url)];
  if (dialect === sqliteDialect) return { dialect, description: redactUrlPassword(url), open: () => OPENERS.sqlite(url, settings) };
  checkServerUrl(url, dialect);
  return { dialect, description: redactUrlPassword(url), open: () => openServer(dialect, url, settings) };
}
