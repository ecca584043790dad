export type { ControllableServer, Endpoint, ServerKind, ServerNeeds, ServerSource, TestServer, TlsFiles } from './types.js';
export { serverSkipReason } from './availability.js';
export { startRedis, type RedisOptions, type RedisTestServer } from './redis.js';
export { startMemcached, type MemcachedOptions } from './memcached.js';
export { startPostgres } from './postgres.js';
export { startMariaDb } from './mariadb.js';
export { generateTlsFiles } from './tls.js';
export { startFaultProxy, type FaultProxy } from './fault-proxy.js';
