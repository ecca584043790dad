export { SqlCache, DEFAULT_TABLE, MAX_KEY_LENGTH, type SqlCacheOptions, type SqlCacheParams } from './sql-cache';
export type { DialectName } from './dialects/dialect';
