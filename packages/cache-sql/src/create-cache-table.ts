import { CacheConnectionError, CacheError } from '@cachette/cache-core';
import { isConnectionFailure } from './connection-errors';
import type { DatabaseConnection } from './connection';
import type { SqlDriver } from './dialects/dialect';
import { cacheTableOf, type SqlCacheParams } from './sql-cache';

export interface CreateCacheTableOptions {
  /** Print the SQL instead of running it. */
  dryRun?: boolean;
  /** Only this database of the cache (`'default'` is the primary), as Django's `--database`. Default: every one the router allows. */
  database?: string;
  /** Where progress lines and dry-run SQL go. Default: nowhere. */
  log?: (line: string) => void;
}

export interface CreateCacheTableResult {
  table: string;
  /** The database's name: `'default'` for the primary (`location` / `client`). */
  database: string;
  /** `created`, `exists` (left alone), `dry-run` (nothing ran) or `skipped` (the router's `allowMigrate` said no). */
  outcome: 'created' | 'exists' | 'dry-run' | 'skipped';
  /** The statements that create the table and its index. */
  sql: string[];
}

/**
 * Django's `createcachetable` for one cache: in each of its databases that the router allows
 * (`allowMigrate`; with `replicas`, the primary only), creates the table and the index on
 * `expires` when the table is missing, and leaves an existing table alone. Takes the cache's own
 * parameters; one result per database, skipped ones included.
 */
export async function createCacheTable(params: SqlCacheParams, options: CreateCacheTableOptions = {}): Promise<CreateCacheTableResult[]> {
  const log = options.log ?? (() => {});
  const { table, routes } = cacheTableOf(params);
  if (options.database !== undefined && !routes.names.includes(options.database)) {
    throw new CacheError(`Cache table '${table}' has no database '${options.database}' (databases: ${routes.names.join(', ')})`);
  }
  const sql = routes.dialect.createTableSql(table, { ifNotExists: false });
  // One database: Django's messages, word for word. Several: each line names its database.
  const on = (database: string): string => (routes.routed ? ` on database '${database}'` : '');
  const results: CreateCacheTableResult[] = [];
  for (const database of routes.names.filter((name) => options.database === undefined || name === options.database)) {
    if (!routes.allowMigrate(database)) {
      log(`Cache table '${table}' skipped${on(database)}: the router does not allow it there.`);
      results.push({ table, database, outcome: 'skipped', sql });
    } else if (options.dryRun) {
      for (const statement of sql) log(statement);
      results.push({ table, database, outcome: 'dry-run', sql });
    } else {
      const outcome = await createIn(routes.connection(database), table, sql);
      log(`Cache table '${table}' ${outcome === 'created' ? 'created' : 'already exists'}${on(database)}.`);
      results.push({ table, database, outcome, sql });
    }
  }
  return results;
}

async function createIn(connection: DatabaseConnection, table: string, sql: string[]): Promise<'created' | 'exists'> {
  let driver: SqlDriver | undefined;
  try {
    driver = connection.open();
    const { rows } = await driver.query(connection.dialect.tableExistsSql, [table]);
    if (rows.length > 0) return 'exists';
    await driver.executeScript(sql);
    return 'created';
  } catch (error) {
    if (error instanceof CacheError) throw error;
    const message = `Cache table '${table}' could not be created in ${connection.description}: ${(error as Error).message}`;
    throw isConnectionFailure(error) ? new CacheConnectionError(message, { cause: error }) : new CacheError(message, { cause: error });
  } finally {
    await driver?.close();
  }
}
