import { RedisCache } from './redis-cache';

export { RedisCache, type RedisCacheOptions, type RedisCacheParams } from './redis-cache';
export { RedisLock, type KeyRoute, type LockOptions } from './lock';
export { HashRing, hashTag } from './ring';
export type { CompressionAlgorithm, CompressionOptions } from './compression';
export type { KeyGroup, ServerCommand, Topology } from './topology';
export { RedisCluster, type ClusterOptions, type ReadFrom } from './cluster/cluster-client';
export { SlotMap, type NodeAddress, type Shard } from './cluster/slot-map';
export { SLOT_COUNT, keySlot } from './cluster/slots';
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
