import { EXPIRES, KEY, VALUE, type Dialect } from './dialects/dialect';

/** Keys per `IN (…)` list: far below every database's parameter limit. */
export const KEYS_PER_STATEMENT = 500;

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/**
 * The SQL text of every cache operation on one table, built once. Statements over a list of keys
 * are built per list length and kept, so repeated calls reuse the text (and SQLite its prepared
 * statement).
 */
export class CacheStatements {
  readonly table: string;
  readonly count: string;
  readonly has: string;
  /** Parameters: key, now. */
  readonly ttl: string;
  readonly touch: string;
  readonly incr: string;
  readonly readForIncr: string;
  /** Parameters: the new value, key, the value read, now. Matches nothing when the row changed or expired. */
  readonly compareAndSet: string;
  readonly deleteAllExpired: string;
  /** Parameter: now. Every row (`entries`) and the expired ones not removed yet (`expired_entries`). */
  readonly storeStats: string;
  readonly cullBoundary: string;
  readonly deleteBelow: string;
  readonly clear: string;
  private readonly byLength = new Map<string, string>();
  private readonly key: string;
  private readonly expires: string;
  private readonly value: string;

  constructor(
    readonly dialect: Dialect,
    private readonly tableName: string,
  ) {
    const quote = dialect.quoteName;
    const [table, key, value, expires] = [quote(tableName), quote(KEY), quote(VALUE), quote(EXPIRES)];
    this.key = key;
    this.value = value;
    this.expires = expires;
    this.table = table;
    this.count = `SELECT COUNT(*) AS count FROM ${table}`;
    this.has = `SELECT 1 AS found FROM ${table} WHERE ${key} = ? AND ${expires} > ?`;
    this.ttl = `SELECT ${dialect.expiresAsText(expires)} AS ${expires} FROM ${table} WHERE ${key} = ? AND ${expires} > ?`;
    this.touch = `UPDATE ${table} SET ${expires} = ? WHERE ${key} = ? AND ${expires} > ?`;
    this.incr = dialect.incrSql(tableName);
    this.readForIncr = `SELECT ${value}, ${expires} > ? AS live FROM ${table} WHERE ${key} = ?`;
    this.compareAndSet = `UPDATE ${table} SET ${value} = ? WHERE ${key} = ? AND ${value} = ? AND ${expires} > ?`;
    this.deleteAllExpired = `DELETE FROM ${table} WHERE ${expires} <= ?`;
    this.storeStats = `SELECT COUNT(*) AS entries, COUNT(CASE WHEN ${expires} <= ? THEN 1 END) AS expired_entries FROM ${table}`;
    this.cullBoundary = `SELECT ${key} FROM ${table} ORDER BY ${key} LIMIT 1 OFFSET ?`;
    this.deleteBelow = `DELETE FROM ${table} WHERE ${key} < ?`;
    this.clear = `DELETE FROM ${table}`;
  }

  /** Inserts or replaces rows; parameters: key, value, expires for each row. */
  upsert(rowCount: number): string {
    return this.forLength('upsert', rowCount, () => this.dialect.upsertSql(this.tableName, rowCount));
  }

  /** Parameters: now, then the keys. */
  selectMany(keyCount: number): string {
    return this.forLength('select', keyCount, (list) => `SELECT ${this.key}, ${this.value}, ${this.expires} > ? AS live FROM ${this.table} WHERE ${this.key} IN (${list})`);
  }

  /** Parameters: the keys, then now. Only rows still expired go, not ones rewritten meanwhile. */
  deleteExpired(keyCount: number): string {
    return this.forLength('expired', keyCount, (list) => `DELETE FROM ${this.table} WHERE ${this.key} IN (${list}) AND ${this.expires} <= ?`);
  }

  deleteMany(keyCount: number): string {
    return this.forLength('delete', keyCount, (list) => `DELETE FROM ${this.table} WHERE ${this.key} IN (${list})`);
  }

  private forLength(kind: string, count: number, build: (placeholderList: string) => string): string {
    const cacheKey = `${kind}:${count}`;
    let sql = this.byLength.get(cacheKey);
    if (sql === undefined) {
      sql = build(placeholders(count));
      if (this.byLength.size < 1024) this.byLength.set(cacheKey, sql);
    }
    return sql;
  }
}
