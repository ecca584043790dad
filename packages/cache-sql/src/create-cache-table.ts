import { CacheConnectionError, CacheError } from '@cachette/cache-core';
import { isConnectionFailure } from './connection-errors';
import type { SqlDriver } from './dialects/dialect';
import { cacheTableOf, type SqlCacheParams } from './sql-cache';

export interface CreateCacheTableOptions {
  /** Print the SQL instead of running it. */
  dryRun?: boolean;
  /** Where progress lines and dry-run SQL go. Default: nowhere. */
  log?: (line: string) => void;
}

export interface CreateCacheTableResult {
  table: string;
  /** `created`, `exists` (left alone) or `dry-run` (nothing ran). */
  outcome: 'created' | 'exists' | 'dry-run';
  /** The statements that create the table and its index. */
  sql: string[];
}

/**
 * Django's `createcachetable` for one cache: creates its table and the index on `expires` when
 * the table is missing, and leaves an existing table alone. Takes the cache's own parameters.
 */
export async function createCacheTable(params: SqlCacheParams, options: CreateCacheTableOptions = {}): Promise<CreateCacheTableResult> {
  const log = options.log ?? (() => {});
  const { table, connection } = cacheTableOf(params);
  const sql = connection.dialect.createTableSql(table, { ifNotExists: false });
  if (options.dryRun) {
    for (const statement of sql) log(statement);
    return { table, outcome: 'dry-run', sql };
  }
  let driver: SqlDriver | undefined;
  try {
    driver = connection.open();
    const { rows } = await driver.query(connection.dialect.tableExistsSql, [table]);
    if (rows.length > 0) {
      log(`Cache table '${table}' already exists.`);
      return { table, outcome: 'exists', sql };
    }
    await driver.executeScript(sql);
    log(`Cache table '${table}' created.`);
    return { table, outcome: 'created', sql };
  } catch (error) {
    if (error instanceof CacheError) throw error;
    const message = `Cache table '${table}' could not be created in ${connection.description}: ${(error as Error).message}`;
    throw isConnectionFailure(error) ? new CacheConnectionError(message, { cause: error }) : new CacheError(message, { cause: error });
  } finally {
    await driver?.close();
  }
}
