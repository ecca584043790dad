export { TieredCache, type Coherence, type TieredCacheOptions, type TieredCacheParams } from './tiered-cache';
export type { TierStats } from './invalidation';
