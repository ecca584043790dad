import {
  BaseCache,
  CULLING_OPTIONS,
  CacheConnectionError,
  CacheError,
  MISSING,
  checkUrlParameters,
  declareOptions,
  incrementedValue,
  parseCacheUrl,
  nowInSeconds,
  readCullingOptions,
  resolveSerializer,
  secondsUntil,
  type CacheParams,
  type CullingOptions,
  type Missing,
  type ParsedCacheUrl,
  type SerializerOption,
  type StoreStats,
  publishSwallowedError,
  ValueTooLargeError,
} from '@cachette/cache-core';
import { isConnectionFailure, isRolledBackConflict, isValueTooLarge } from './connection-errors';
import { driverUrlParameters, type DatabaseConnection } from './connection';
import { EXPIRES, KEY, VALUE, checkTableName, parseExpiry, type DialectName, type QueryResult, type SqlDriver } from './dialects/dialect';
import { DatabaseRoutes, type SqlReadOperation, type SqlRouter, type SqlWriteOperation } from './routing';
import { CacheStatements, KEYS_PER_STATEMENT } from './statements';
import { storedKey } from './stored-key';
import { rowEncoding, type RowEncoding } from './value-encoding';
import { wallClock, type WallClock } from './wall-clock';

export const DEFAULT_TABLE = 'cachette_cache';
const POSTGRES_UNIQUE_VIOLATION = '23505';

export interface SqlCacheOptions extends CullingOptions {
  /** The cache table. Default `cachette_cache`. */
  table?: string;
  /** Create a missing table (and its index) on first use. Default `true`; production setups run `cachette createcachetable`. */
  createTable?: boolean;
  /** An open database instead of a URL: a better-sqlite3 `Database`, a `pg` Pool or Client, or a `mysql2` pool. Never closed by the cache. */
  client?: unknown;
  /** Which database `client` is, when it cannot be told from the object. */
  dialect?: DialectName;
  /**
   * How values become bytes: `'v8'` (default), `'json'`, `'pickle'` or your own `Serializer`.
   * `'pickle'` stores rows exactly as Django's `DatabaseCache` does, to share the table with a
   * Django site (see the README).
   */
  serializer?: SerializerOption;
  /**
   * The time zone of `expires` on SQLite and MySQL, whose column holds no zone: `'UTC'` (the
   * default; Django with USE_TZ = True) or, for a Django site with USE_TZ = False, its TIME_ZONE
   * (an IANA name). PostgreSQL stores instants: there it changes nothing.
   */
  timeZone?: string;
  /** Connections in the PostgreSQL / MySQL pool the cache opens. Default 10. */
  poolSize?: number;
  /** Seconds to wait for a connection (SQLite: for a locked database). Default 10. */
  connectTimeout?: number;
  /** Seconds a PostgreSQL / MySQL query may take before it fails. Default 30. */
  queryTimeout?: number;
  /**
   * Read replicas of the primary (`location` / `client`): URLs or clients. `get`, `getMany`,
   * `hasKey`, `ttl` and `storeStats` go to one of them per call, in turn; writes to the primary;
   * the table is created on the primary only. A replica whose read fails is left out for
   * `replicaCooldown` seconds and its reads go to the primary.
   */
  replicas?: readonly unknown[];
  /** More databases by name, for `router`: URLs or clients of the primary's kind. The primary is `'default'`. */
  databases?: Readonly<Record<string, unknown>>;
  /** Django's database router for the cache table: `dbForRead(operation)`, `dbForWrite(operation)`, `allowMigrate(database)`. */
  router?: SqlRouter;
  /** Seconds a database whose read failed is left out of reads. Default 5; `0` tries it on every read. */
  replicaCooldown?: number;
}

export interface SqlCacheParams extends CacheParams {
  options?: SqlCacheOptions;
}

/** The cache's options (those a URL can carry marked `'url'`), and the parameters its database URLs carry for the driver. */
const SQL_OPTIONS = declareOptions<SqlCacheOptions>(
  {
    ...CULLING_OPTIONS,
    table: 'url',
    createTable: 'url',
    client: 'object',
    dialect: 'url',
    serializer: 'url',
    timeZone: 'url',
    poolSize: 'url',
    connectTimeout: 'url',
    queryTimeout: 'url',
    replicas: 'object',
    databases: 'object',
    router: 'object',
    replicaCooldown: 'url',
  },
  driverUrlParameters,
);

/** What a database URL's own query may carry: its driver's parameters, the cache's never reaching it. */
const DATABASE_URL_QUERY = declareOptions<Record<never, never>>({}, driverUrlParameters);

/** The database URLs of a cache's parameters: `location`, `replicas` and `databases` given as URLs. */
function databaseUrls(params: SqlCacheParams): string[] {
  const options = params.options ?? {};
  const targets = [params.location, ...(Array.isArray(options.replicas) ? options.replicas : []), ...Object.values(options.databases ?? {})];
  return targets.filter((target): target is string => typeof target === 'string');
}

function positiveNumber(name: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 || (allowZero && value === 0))) {
    throw new TypeError(`Cache option ${name} must be a ${allowZero ? 'number of 0 or more' : 'positive number'}; got ${String(value)}`);
  }
  return value;
}

/** The table and databases a cache's parameters name, checked, without connecting. */
export function cacheTableOf(params: SqlCacheParams): { table: string; routes: DatabaseRoutes } {
  const options = params.options ?? {};
  const routes = new DatabaseRoutes({
    location: params.location,
    client: options.client,
    dialect: options.dialect,
    databases: options.databases,
    replicas: options.replicas,
    router: options.router,
    replicaCooldownSeconds: positiveNumber('replicaCooldown', options.replicaCooldown, 5, true),
    poolSize: positiveNumber('poolSize', options.poolSize, 10),
    connectTimeoutSeconds: positiveNumber('connectTimeout', options.connectTimeout, 10),
    queryTimeoutSeconds: positiveNumber('queryTimeout', options.queryTimeout, 30),
  });
  for (const url of databaseUrls(params)) checkUrlParameters(parseCacheUrl(url), DATABASE_URL_QUERY, []);
  return { table: checkTableName(options.table ?? DEFAULT_TABLE), routes };
}

/** How often a write the database rolled back to break a deadlock is sent, in all. */
const CONFLICT_ATTEMPTS = 4;

/** A short random pause before sending again, so the writers that collided do not collide again in step. */
const conflictPause = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));

/**
 * Rows in one order, the stored keys', in every statement of every process: two multi-row writes
 * then take their row locks in the same order and cannot deadlock each other.
 */
function inLockOrder<T>(rows: Array<readonly [string, T]>): Array<readonly [string, T]> {
  return rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Characters of values per multi-row statement (stored values are text). Rows past it start the
 * next statement, so values that each fit the server's limit on a statement (MariaDB's default
 * max_allowed_packet is 16 MiB, MySQL's 64 MiB; PostgreSQL's messages stop at 1 GB) never fail
 * for being sent together. A row longer than this goes alone.
 */
const VALUE_CHARS_PER_STATEMENT = 4 * 1024 * 1024;

/** Items in statement-sized groups: at most KEYS_PER_STATEMENT, and VALUE_CHARS_PER_STATEMENT of `charsOf` unless one item alone is more. */
function chunks<T>(items: readonly T[], charsOf: (item: T) => number = () => 0): T[][] {
  const result: T[][] = [];
  let group: T[] = [];
  let chars = 0;
  for (const item of items) {
    const itemChars = charsOf(item);
    if (group.length === KEYS_PER_STATEMENT || (group.length > 0 && chars + itemChars > VALUE_CHARS_PER_STATEMENT)) {
      result.push(group);
      group = [];
      chars = 0;
    }
    group.push(item);
    chars += itemChars;
  }
  if (group.length > 0) result.push(group);
  return result;
}

/**
 * Django's `DatabaseCache` over SQLite, PostgreSQL or MySQL/MariaDB, in Django's table layout,
 * with each operation in as few statements as the database allows.
 */
export class SqlCache extends BaseCache {
  static override readonly knownOptions = SQL_OPTIONS;

  readonly table: string;
  private readonly routes: DatabaseRoutes;
  private readonly statements: CacheStatements;
  private readonly rows: RowEncoding;
  private readonly clock: WallClock;
  private readonly maxEntries: number;
  private readonly cullFrequency: number;
  private readonly createTable: boolean;
  /** Each database's driver, opened on its first query. */
  private readonly drivers = new Map<string, Promise<SqlDriver>>();

  /**
   * A database URL carries the cache's parameters and options in its query; its driver's
   * parameters stay with the URL. Any other name is refused.
   */
  static paramsFromUrl(parsed: ParsedCacheUrl, common: CacheParams): SqlCacheParams {
    checkUrlParameters(parsed, SQL_OPTIONS);
    const cacheOptions: Record<string, unknown> = {};
    const databaseQuery = new URLSearchParams();
    const commonOptions = (common.options ?? {}) as Record<string, unknown>;
    const driverParameters = driverUrlParameters(parsed.scheme);
    for (const [name, text] of parsed.query) {
      const optionName = name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
      if (SQL_OPTIONS.urlOptions.includes(optionName)) cacheOptions[optionName] = commonOptions[optionName];
      else if (driverParameters.includes(name)) databaseQuery.append(name, text);
    }
    const query = databaseQuery.toString();
    return { ...common, location: `${parsed.scheme}://${parsed.body}${query ? `?${query}` : ''}`, options: cacheOptions };
  }

  constructor(params: SqlCacheParams = {}) {
    super(params);
    const options = params.options ?? {};
    ({ table: this.table, routes: this.routes } = cacheTableOf(params));
    this.statements = new CacheStatements(this.routes.dialect, this.table);
    this.rows = rowEncoding(resolveSerializer(options.serializer));
    const clock = wallClock(options.timeZone);
    this.clock = this.routes.dialect.zonelessExpires ? clock : wallClock('UTC');
    ({ maxEntries: this.maxEntries, cullFrequency: this.cullFrequency } = readCullingOptions(options));
    this.createTable = options.createTable ?? true;
  }

  /** `sqlite`, `postgres` or `mysql`. */
  get dialect(): DialectName {
    return this.routes.dialect.name;
  }

  // ---- primitives ----------------------------------------------------------------------------

  protected async getItem(key: string): Promise<unknown> {
    const found = await this.selectLive([key], 'get');
    return found.has(key) ? found.get(key) : MISSING;
  }

  protected override getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    return this.selectLive(keys, 'getMany');
  }

  /** One SELECT per 500 keys; a second statement only when some rows had expired, to remove them (on the write database). */
  private async selectLive(keys: readonly string[], operation: 'get' | 'getMany'): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (const batch of chunks(keys)) {
      const now = this.timestamp(nowInSeconds());
      const madeKeys = new Map(batch.map((key) => [storedKey(key), key]));
      const { rows } = await this.read(operation, this.statements.selectMany(madeKeys.size), [now, ...madeKeys.keys()]);
      const expired: string[] = [];
      for (const row of rows) {
        const key = String(row[KEY]);
        if (Number(row.live)) found.set(madeKeys.get(key) ?? key, this.rows.decode(row[VALUE]));
        else expired.push(key);
      }
      if (expired.length > 0) await this.write(operation, this.statements.deleteExpired(expired.length), [...expired, now]);
    }
    return found;
  }

  protected override async hasItem(key: string): Promise<boolean> {
    const { rows } = await this.read('hasKey', this.statements.has, [storedKey(key), this.timestamp(nowInSeconds())]);
    return rows.length > 0;
  }

  /** One `SELECT` of a live row's expiry; the far-future expiry written for timeout `null` reads as `null`. */
  protected override async ttlItem(key: string): Promise<number | null | Missing> {
    const { rows } = await this.read('ttl', this.statements.ttl, [storedKey(key), this.timestamp(nowInSeconds())]);
    if (rows.length === 0) return MISSING;
    const expiry = parseExpiry(String(rows[0]![EXPIRES]));
    return secondsUntil(expiry === null ? null : this.clock.fromWall(expiry));
  }

  protected async setItem(key: string, value: unknown, expiry: number | null): Promise<void> {
    await this.upsert([[key, value]], expiry, 'set');
  }

  protected override setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, expiry: number | null): Promise<string[]> {
    return this.upsert(entries, expiry, 'setMany');
  }

  /** One multi-row upsert per 500 entries (or 4 Mi characters of values), after Django's culling check (in the same statement on PostgreSQL). */
  private async upsert(entries: ReadonlyArray<readonly [string, unknown]>, expiry: number | null, operation: 'set' | 'setMany'): Promise<string[]> {
    const expires = this.expires(expiry);
    // Later entries win, as they would with one set after another; one statement cannot name a key twice.
    const rows = new Map(entries.map(([key, value]) => [storedKey(key), this.rows.encode(value)]));
    for (const batch of chunks(inLockOrder([...rows]), ([, value]) => value.length)) {
      const params = batch.flatMap(([key, value]) => [key, value, expires]);
      await this.countedWrite(operation, { rowCount: batch.length }, params, () => this.write(operation, this.statements.upsert(batch.length), params));
    }
    return [];
  }

  protected async addItem(key: string, value: unknown, expiry: number | null): Promise<boolean> {
    const row = { key: storedKey(key), value: this.rows.encode(value), expires: this.expires(expiry), now: this.timestamp(nowInSeconds()) };
    const { rowCount } = await this.countedWrite('add', 'add', [row.key, row.value, row.expires, row.now], async () => {
      let result: QueryResult | undefined;
      for (const { sql, params } of this.routes.dialect.addStatements(this.table, row)) result = await this.write('add', sql, params);
      return result!;
    });
    return rowCount > 0;
  }

  /**
   * A write preceded by Django's culling check. Where the dialect can, both are one statement
   * that writes only when no cull is due; otherwise, or when one is, cull and then `write`.
   */
  private async countedWrite(
    operation: SqlWriteOperation,
    kind: { rowCount: number } | 'add',
    params: unknown[],
    write: () => Promise<QueryResult>,
  ): Promise<QueryResult> {
    const countedSql = this.routes.dialect.countedWriteSql?.(this.table, kind);
    if (countedSql === undefined) {
      await this.cullIfFull(operation);
      return write();
    }
    const { rows } = await this.write(operation, countedSql, [this.maxEntries, ...params]);
    const count = Number(rows[0]?.count ?? 0);
    if (count <= this.maxEntries) return { rows: [], rowCount: Number(rows[0]?.written ?? 0) };
    await this.cull(operation, count);
    return write();
  }

  /** Only a live row is touched: unlike Django's database backend, an expired key stays expired. */
  protected async touchItem(key: string, expiry: number | null): Promise<boolean> {
    const { rowCount } = await this.write('touch', this.statements.touch, [this.expires(expiry), storedKey(key), this.timestamp(nowInSeconds())]);
    return rowCount > 0;
  }

  protected async deleteItem(key: string): Promise<boolean> {
    const { rowCount } = await this.write('delete', this.statements.deleteMany(1), [storedKey(key)]);
    return rowCount > 0;
  }

  protected override async deleteManyItems(keys: readonly string[]): Promise<void> {
    for (const batch of chunks(keys.map(storedKey).sort())) await this.write('deleteMany', this.statements.deleteMany(batch.length), batch);
  }

  /**
   * One atomic UPDATE that keeps the expiry. When it matches nothing, one more read tells a
   * missing key from a value that is not an integer (or a result out of the safe range).
   * Django's rows hold pickled integers, which SQL cannot add to: see `incrByRewrite`.
   */
  protected async incrItem(key: string, delta: number): Promise<number | Missing> {
    if (this.rows.django) return this.incrByRewrite(key, delta);
    const stored = storedKey(key);
    for (;;) {
      const now = this.timestamp(nowInSeconds());
      const result = await this.write('incr', this.statements.incr, [delta, stored, now, delta, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
      const incremented = this.routes.dialect.incrementResult(result);
      if (incremented !== undefined) return incremented;
      const { rows } = await this.write('incr', this.statements.readForIncr, [now, stored]);
      const row = rows[0];
      if (!row || !Number(row.live)) return MISSING;
      // Throws NonNumericValueError; if it does not, another client stored an integer meanwhile: try again.
      incrementedValue(key, this.rows.decode(row[VALUE]), delta);
    }
  }

  /**
   * Read, add, and write back only if the row still holds the value read (compare-and-set),
   * else start again: no transaction is held across round trips, yet no Cachette increment is
   * lost and none overwrites a value another client wrote after the read. (Django's own `incr`
   * is a get and a set, so a Django increment can still overwrite a concurrent one.) The expiry
   * is kept, as on the SQL path; Django's `incr` resets it to the default timeout.
   */
  private async incrByRewrite(key: string, delta: number): Promise<number | Missing> {
    const stored = storedKey(key);
    for (;;) {
      const now = this.timestamp(nowInSeconds());
      const { rows } = await this.write('incr', this.statements.readForIncr, [now, stored]);
      const row = rows[0];
      if (!row || !Number(row.live)) return MISSING;
      const next = incrementedValue(key, this.rows.decode(row[VALUE]), delta);
      const { rowCount } = await this.write('incr', this.statements.compareAndSet, [this.rows.encode(next), stored, row[VALUE], now]);
      if (rowCount > 0) return next;
    }
  }

  async clear(): Promise<void> {
    await this.write('clear', this.statements.clear);
  }

  /**
   * One statement counting the table's rows, every key prefix included (`entries`), and among
   * them the expired rows not removed yet (`expired_entries`, also in `entries`); then this
   * cache's `maxEntries`, the table and the dialect.
   */
  override async storeStats(): Promise<StoreStats> {
    const { rows } = await this.read('storeStats', this.statements.storeStats, [this.timestamp(nowInSeconds())]);
    return {
      entries: Number(rows[0]?.entries ?? 0),
      expired_entries: Number(rows[0]?.expired_entries ?? 0),
      maxEntries: this.maxEntries,
      table: this.table,
      dialect: this.dialect,
    };
  }

  /** Closes the pools the cache opened; an application's own clients are left open. */
  override async close(): Promise<void> {
    const drivers = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(drivers.map(async (driver) => (await driver.catch(() => undefined))?.close()));
  }

  // ---- internals -----------------------------------------------------------------------------

  private timestamp(epochSeconds: number, wholeSeconds = false): string {
    return this.routes.dialect.formatTimestamp(this.clock.toWall(epochSeconds), wholeSeconds);
  }

  /** Timeout `null` is the far-future expiry (Django's `datetime.max`); Django's rows expire on a whole second. */
  private expires(expiry: number | null): string {
    return this.timestamp(expiry ?? Number.POSITIVE_INFINITY, this.rows.django);
  }

  /** Django's culling check: one COUNT(*). */
  private async cullIfFull(operation: SqlWriteOperation): Promise<void> {
    const { rows } = await this.write(operation, this.statements.count);
    const count = Number(rows[0]?.count ?? 0);
    if (count > this.maxEntries) await this.cull(operation, count);
  }

  /**
   * Django's database culling, with Django's counts: past `maxEntries` rows, remove the expired
   * ones, then the lexicographically smallest keys until `1/cullFrequency` of the rest are gone.
   */
  private async cull(operation: SqlWriteOperation, count: number): Promise<void> {
    if (this.cullFrequency === 0) return this.clear();
    const { rowCount: expired } = await this.write(operation, this.statements.deleteAllExpired, [this.timestamp(nowInSeconds())]);
    const remaining = count - expired;
    if (remaining <= this.maxEntries) return;
    const boundary = await this.write(operation, this.statements.cullBoundary, [Math.floor(remaining / this.cullFrequency)]);
    if (boundary.rows.length > 0) await this.write(operation, this.statements.deleteBelow, [boundary.rows[0]![KEY]]);
  }

  /**
   * A write on the router's write database. Concurrent writers can deadlock on row locks (InnoDB
   * under multi-row upserts, above all); the database then rolls one statement back whole, and it
   * is sent again. Past `CONFLICT_ATTEMPTS`, the caller gets a `CacheError` and nothing was written.
   */
  private async write(operation: SqlWriteOperation, sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    const database = this.routes.forWrite(operation);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queryOn(database, sql, params);
      } catch (error) {
        if (!isRolledBackConflict(error)) throw error;
        if (attempt === CONFLICT_ATTEMPTS) throw this.conflictError(operation, error);
        await conflictPause(attempt);
      }
    }
  }

  private conflictError(operation: SqlWriteOperation, error: unknown): CacheError {
    return new CacheError(
      `The ${this.routes.dialect.title} database rolled back the cache's ${operation} on table '${this.table}' ${CONFLICT_ATTEMPTS} times to break lock conflicts with other writers; nothing was written: ${(error as Error).message}`,
      { cause: error },
    );
  }

  /**
   * A read on the router's database; when that is not the write database and the read fails
   * there, the write database answers it, and the failure is published on
   * `cachette:swallowed-error` (reason `replicaFallback`).
   */
  private read(operation: SqlReadOperation, sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    const database = this.routes.forRead(operation);
    const primary = this.routes.forWrite(operation);
    if (database === primary) return this.queryOn(database, sql, params);
    return this.queryOn(database, sql, params).catch((error: unknown) => {
      this.routes.readFailed(database);
      publishSwallowedError(this, 'replicaFallback', error);
      return this.queryOn(primary, sql, params);
    });
  }

  private queryOn(database: string, sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    return this.ready(database).then((driver) => driver.query(sql, params).catch((error: unknown) => this.rethrow(database, error)));
  }

  /** Opens a database's driver and, unless told not to, creates the table there; retried on the next call after a failure. */
  private ready(database: string): Promise<SqlDriver> {
    let driver = this.drivers.get(database);
    if (driver === undefined) {
      driver = this.openDriver(database).catch((error: unknown) => {
        this.drivers.delete(database);
        return this.rethrow(database, error);
      });
      this.drivers.set(database, driver);
    }
    return driver;
  }

  private async openDriver(database: string): Promise<SqlDriver> {
    const connection = this.routes.connection(database);
    let driver: SqlDriver;
    try {
      driver = connection.open();
    } catch (error) {
      // A missing driver package is a configuration error; any other failure to open is a connection failure.
      throw error instanceof CacheError ? error : this.connectionError(database, error);
    }
    if (this.createTable && this.routes.allowMigrate(database)) {
      try {
        await createMissingTable(driver, connection, this.table);
      } catch (error) {
        await driver.close().catch(() => {});
        throw error;
      }
    }
    return driver;
  }

  private rethrow(database: string, error: unknown): never {
    if (isValueTooLarge(error)) {
      throw new ValueTooLargeError(`A statement on cache table '${this.table}' is too large for the ${this.routes.dialect.title} database, so nothing was stored: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error instanceof CacheError || !isConnectionFailure(error) ? error : this.connectionError(database, error);
  }

  private connectionError(database: string, error: unknown): CacheConnectionError {
    const where = this.routes.routed ? `database '${database}', ` : '';
    return new CacheConnectionError(
      `Cannot reach the ${this.routes.dialect.title} database of cache table '${this.table}' (${where}${this.routes.connection(database).description}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** `CREATE TABLE IF NOT EXISTS` and its index: safe when several processes start at once. */
export async function createMissingTable(driver: SqlDriver, connection: DatabaseConnection, table: string): Promise<void> {
  try {
    await driver.executeScript(connection.dialect.createTableSql(table, { ifNotExists: true }));
  } catch (error) {
    // PostgreSQL: two concurrent CREATE … IF NOT EXISTS can still collide in the catalog; the other one created it.
    if ((error as { code?: string }).code !== POSTGRES_UNIQUE_VIOLATION) throw error;
  }
}
