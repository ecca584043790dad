import { RedisCache } from './redis-cache';

export { RedisCache, type RedisCacheOptions, type RedisCacheParams } from './redis-cache';
export { RedisLock, type LockOptions } from './lock';
export { HashRing, hashTag } from './ring';
export type { CompressionAlgorithm, CompressionOptions } from './compression';
export type { Topology } from './topology';
export {
  Pipeline,
  RedisClient,
  RedisReplyError,
  Transaction,
  parseRedisUrl,
  type ConnectionOptions,
  type RedisClientOptions,
  type ReconnectOptions,
  type RespValue,
} from './client';

export default RedisCache;
