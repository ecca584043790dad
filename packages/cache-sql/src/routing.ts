import { InvalidCacheBackendError } from '@cachette/cache-core';
import { databaseConnection, type DatabaseConnection } from './connection';
import type { Dialect } from './dialects/dialect';
import type { PoolSettings } from './drivers/postgres-driver';

/** The primary's name: the database of `location` (or `options.client`), as Django's `'default'`. */
export const DEFAULT_DATABASE = 'default';

/** The cache operations a router is asked about. */
export type SqlOperation = SqlReadOperation | SqlWriteOperation;
/** Operations that only read the table: a router may send them to a replica. */
export type SqlReadOperation = 'get' | 'getMany' | 'hasKey' | 'ttl' | 'storeStats';
/**
 * Operations that write, or read to write (`incr`, `add`), and the writes a read causes (a `get`
 * that meets expired rows deletes them: `dbForWrite('get')`).
 */
export type SqlWriteOperation = SqlReadOperation | 'set' | 'setMany' | 'add' | 'touch' | 'delete' | 'deleteMany' | 'incr' | 'clear';

/**
 * Django's database router, for the cache table: each method may answer a database name (a key
 * of `options.databases`, or `'default'`), or nothing for `'default'`.
 */
export interface SqlRouter {
  dbForRead?(operation: SqlReadOperation): string | null | undefined;
  dbForWrite?(operation: SqlWriteOperation): string | null | undefined;
  /** Whether the cache table may be created in that database; nothing means yes, as in Django. */
  allowMigrate?(database: string): boolean | null | undefined;
}

export interface RoutingSettings {
  location?: unknown;
  client?: unknown;
  dialect?: Dialect['name'];
  databases?: Readonly<Record<string, unknown>>;
  replicas?: readonly unknown[];
  router?: SqlRouter;
  /** Seconds a database that failed a read is left out of reads. */
  replicaCooldownSeconds: number;
}

const isConnectionObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

/** A URL or an application client, as `location` / `client` take them. */
function namedConnection(name: string, target: unknown, settings: PoolSettings & { dialect?: Dialect['name'] }): DatabaseConnection {
  if (typeof target !== 'string' && !isConnectionObject(target)) {
    throw new TypeError(`SQL cache database '${name}' must be a database URL or a client; got ${String(target)}`);
  }
  return databaseConnection(typeof target === 'string' ? { ...settings, location: target } : { ...settings, client: target });
}

/** `replicas` as names in `databases`: `replica1`, `replica2`, … */
const replicaName = (index: number): string => `replica${index + 1}`;

/** The router `replicas` stands for: reads in turn over the replicas that are up, everything else on the primary. */
function replicaRouter(names: readonly string[], isUp: (name: string) => boolean): SqlRouter {
  let next = 0;
  return {
    dbForRead() {
      for (let tried = 0; tried < names.length; tried++) {
        const name = names[next++ % names.length]!;
        if (isUp(name)) return name;
      }
      return DEFAULT_DATABASE;
    },
    dbForWrite: () => DEFAULT_DATABASE,
    // A streaming replica is a copy of the primary: the table arrives with everything else.
    allowMigrate: (database) => database === DEFAULT_DATABASE,
  };
}

/**
 * The databases of one cache and where each operation goes. A database whose read failed is
 * left out of reads for a while (the primary answers them), so a replica that is down costs one
 * failed attempt per cooldown, not one per read.
 */
export class DatabaseRoutes {
  readonly dialect: Dialect;
  private readonly connections = new Map<string, DatabaseConnection>();
  private readonly router: SqlRouter;
  private readonly failedUntil = new Map<string, number>();

  constructor(private readonly settings: RoutingSettings & PoolSettings) {
    const primary = databaseConnection(settings);
    this.dialect = primary.dialect;
    this.connections.set(DEFAULT_DATABASE, primary);
    const { databases, replicas, router } = settings;
    if (replicas !== undefined && (router !== undefined || databases !== undefined)) {
      throw new InvalidCacheBackendError('SQL cache options.replicas stands for options.databases with a router: give either replicas, or databases and router');
    }
    if (replicas !== undefined && !Array.isArray(replicas)) throw new TypeError('SQL cache option replicas must be an array of database URLs or clients');
    const named = replicas === undefined ? Object.entries(databases ?? {}) : replicas.map((target, index) => [replicaName(index), target] as const);
    for (const [name, target] of named) {
      if (this.connections.has(name)) throw new InvalidCacheBackendError(`SQL cache database '${name}' is the primary's name: the primary is location (or client)`);
      const connection = namedConnection(name, target, settings);
      if (connection.dialect !== this.dialect) {
        throw new InvalidCacheBackendError(`SQL cache database '${name}' is ${connection.dialect.title}, the primary ${this.dialect.title}: one cache's databases are of one kind`);
      }
      this.connections.set(name, connection);
    }
    this.router = replicas === undefined ? (router ?? {}) : replicaRouter(named.map(([name]) => name), (name) => this.isUp(name));
  }

  /** Every database, the primary first. */
  get names(): string[] {
    return [...this.connections.keys()];
  }

  /** Whether reads and writes may go to several databases. */
  get routed(): boolean {
    return this.connections.size > 1;
  }

  connection(name: string): DatabaseConnection {
    return this.connections.get(name)!;
  }

  allowMigrate(name: string): boolean {
    return this.router.allowMigrate?.(name) ?? true;
  }

  /** The database for a read: the router's choice unless it failed a moment ago, then the write database. */
  forRead(operation: SqlReadOperation): string {
    const name = this.known(this.router.dbForRead?.(operation), 'dbForRead');
    return this.isUp(name) ? name : this.forWrite(operation);
  }

  forWrite(operation: SqlWriteOperation): string {
    return this.known(this.router.dbForWrite?.(operation), 'dbForWrite');
  }

  /** A read on `name` failed: leave it out of reads for the cooldown. */
  readFailed(name: string): void {
    if (this.settings.replicaCooldownSeconds > 0) this.failedUntil.set(name, Date.now() + this.settings.replicaCooldownSeconds * 1000);
  }

  private isUp(name: string): boolean {
    const until = this.failedUntil.get(name);
    if (until === undefined) return true;
    if (Date.now() < until) return false;
    this.failedUntil.delete(name);
    return true;
  }

  private known(name: string | null | undefined, method: string): string {
    const chosen = name ?? DEFAULT_DATABASE;
    if (this.connections.has(chosen)) return chosen;
    throw new InvalidCacheBackendError(`The SQL cache's router.${method} chose database '${chosen}', which is not configured (databases: ${this.names.join(', ')})`);
  }
}
