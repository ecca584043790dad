import type { Serializer } from '../serializer';
import { loadPickle } from './reader';
import { dumpPickle } from './writer';

/**
 * Python's pickle format (`serializer: 'pickle'`), to share a cache with a Django site: reads
 * protocols 0–5, writes protocol 4 (see `dumpPickle` and `loadPickle` for the type mapping and
 * what is refused).
 *
 * Pure pickle: unlike the v8 and json serializers, safe integers are pickled too, not stored as
 * decimal text. Django's Redis and pymemcache backends keep integers as text (for INCRBY and
 * memcached `incr`) outside the serializer; a Cachette backend sharing their keys does the same
 * itself, before and after calling this serializer.
 */
export const pickleSerializer: Serializer = {
  name: 'pickle',
  serialize: (value: unknown): Buffer => dumpPickle(value),
  deserialize: (data: Buffer): unknown => loadPickle(data),
};
