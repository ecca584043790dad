export { SqlCache, DEFAULT_TABLE, type SqlCacheOptions, type SqlCacheParams } from './sql-cache';
export type { DialectName } from './dialects/dialect';
