import type { RedisCache } from '@cachette/cache-redis';
import type { TieredCache } from '../src/index';

/**
 * One round trip on every connection a tiered cache reads through. Redis sends a notice on a
 * connection before the replies to commands that follow it, and a lost connection is seen before
 * any reply on it: once this settles, every notice and disconnection from before it is handled.
 */
export function roundTrip(cache: TieredCache): Promise<unknown> {
  return Promise.all((cache.sharedCache as RedisCache).topology.primaries.map((server) => server.call('PING')));
}
