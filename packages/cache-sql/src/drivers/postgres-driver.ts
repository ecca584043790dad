import type Pg from 'pg';
import type { SqlDriver } from '../dialects/dialect';
import { postgresDialect } from '../dialects/postgres';
import { loadDriverPackage } from './load-driver';
import { filePath, oneOf, type UrlValueRule } from './url-values';

/** What the cache needs of a `pg` Pool or Client. */
type Queryable = Pick<Pg.Pool, 'query'>;

export function postgresDriver(client: Queryable, close: () => Promise<void>): SqlDriver {
  return {
    async query(sql, params = []) {
      const result = await client.query(postgresDialect.toDriverSql(sql), params as unknown[]);
      return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    },
    async executeScript(statements) {
      // Several statements in one parameterless query run in one implicit transaction.
      await client.query(statements.join('\n'));
    },
    close,
  };
}

/**
 * What `pg` reads from a postgres:// URL's query (pg-connection-string's and the client's
 * parameters); the cache refuses any other name rather than let pg ignore a typo.
 */
export const POSTGRES_URL_PARAMETERS: readonly string[] = [
  'application_name',
  'binary',
  'client_encoding',
  'connect_timeout',
  'db',
  'encoding',
  'fallback_application_name',
  'host',
  'idle_in_transaction_session_timeout',
  'keepalives',
  'keepalives_idle',
  'lock_timeout',
  'options',
  'password',
  'port',
  'query_timeout',
  'replication',
  'ssl',
  'sslcert',
  'sslkey',
  'sslmode',
  'sslnegotiation',
  'sslrootcert',
  'statement_timeout',
  'user',
  'uselibpqcompat',
];

export interface PoolSettings {
  poolSize: number;
  connectTimeoutSeconds: number;
  queryTimeoutSeconds: number;
}

/** The values of a postgres:// URL's query checked when the cache is made (see `UrlValueRule`). */
export const POSTGRES_URL_VALUE_RULES: Readonly<Record<string, UrlValueRule>> = {
  sslnegotiation: oneOf('postgres', 'direct'),
  sslcert: filePath,
  sslkey: filePath,
  sslrootcert: filePath,
};

export function openPostgres(url: string, settings: PoolSettings): SqlDriver {
  const pg = loadDriverPackage<typeof Pg>('pg', 'PostgreSQL');
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutSeconds * 1000,
    query_timeout: settings.queryTimeoutSeconds * 1000,
  });
  // An idle connection that dies (server restart) is replaced by the pool; without a listener
  // its 'error' event would crash the process. The next query reports any lasting problem.
  pool.on('error', () => {});
  return postgresDriver(pool, () => pool.end());
}

export function isPostgresClient(client: unknown): client is Queryable {
  return typeof client === 'object' && client !== null && typeof (client as Queryable).query === 'function' && 'connect' in client && !('execute' in client);
}
