export type { ControllableServer, Endpoint, ServerKind, ServerNeeds, ServerSource, TestServer, TlsFiles } from './types.js';
export { serverSkipReason } from './availability.js';
/** A loopback port nothing listens on (for "server unreachable" tests): connections to it are refused. */
export { freePort as closedPort } from './ports.js';
export { startRedis, type RedisOptions, type RedisTestServer } from './redis.js';
export {
  redisClusterSkipReason,
  startRedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
  type RedisClusterTestServer,
} from './redis-cluster.js';
export { startMemcached, type MemcachedOptions } from './memcached.js';
export { startPostgres } from './postgres.js';
export {
  postgresReplicationSkipReason,
  startPostgresReplication,
  type PostgresReplication,
  type PostgresReplicationOptions,
} from './postgres-replication.js';
export { startMariaDb } from './mariadb.js';
export { generateTlsFiles } from './tls.js';
export { GARBAGE_REPLY, startFaultProxy, type AfterCut, type FaultProxy } from './fault-proxy.js';
export { djangoPython, djangoSkipReason, startDjangoSite, type DjangoSite } from './django.js';
export {
  DjangoCacheError,
  djangoCacheSkipReason,
  fromTyped,
  startDjangoCachePeer,
  toTyped,
  type DjangoCacheConfig,
  type DjangoCachePeer,
  type DjangoCachePeerOptions,
  type DjangoTimeout,
  type PythonLike,
  type RawEntry,
  type SampleReadResult,
  type TypedValue,
} from './django-cache/peer.js';
export { ONE_WAY_SAMPLES } from './django-cache/typed.js';
export { seededRandom } from './seeded-random.js';
export { stampedeAcrossProcesses, startHangingLockHolder, type CacheSpec, type StampedeRound } from './stampede/workers.js';
export { CHROMIUM_ARGS, chromiumPath, chromiumSkipReason } from './browser.js';
