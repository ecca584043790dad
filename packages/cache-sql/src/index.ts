export { SqlCache, DEFAULT_TABLE, type SqlCacheOptions, type SqlCacheParams } from './sql-cache';
export { createCacheTable, type CreateCacheTableOptions, type CreateCacheTableResult } from './create-cache-table';
export type { DialectName } from './dialects/dialect';
export { createCacheTableCommand, type CommandOutput } from './command';
