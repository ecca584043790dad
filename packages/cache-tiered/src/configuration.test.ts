import { UnknownCacheOptionError, registerCacheScheme } from '@cachette/cache-core';
import { RedisCache } from '@cachette/cache-redis';
import { describe, expect, it } from 'vitest';
import { TieredCache } from './index';

const suggesting = (suggestion: string) => expect.objectContaining({ suggestion });

// Nothing here connects: every setting is refused at construction.
const SHARED = { backend: RedisCache, location: 'redis://127.0.0.1:6379' };
registerCacheScheme('redis', RedisCache);

describe('TieredCache configuration with unknown names', () => {
  it('refuses an unknown option of its own, suggesting the nearest and listing the known ones', () => {
    const construct = () => new TieredCache({ options: { shared: SHARED, localTimout: 5 } as never });
    expect(construct).toThrow(UnknownCacheOptionError);
    expect(construct).toThrow(
      "Unknown option 'localTimout' for TieredCache (did you mean 'localTimeout'?). Known options: broadcastPrefixes, invalidation, local, localTimeout, resolveFrom, shared",
    );
  });

  it("refuses an unknown option of the local tier as LocMemCache's", () => {
    expect(() => new TieredCache({ options: { shared: SHARED, local: { maxEntriez: 5 } as never } })).toThrow(
      "Unknown option 'maxEntriez' for LocMemCache (did you mean 'maxEntries'?). Known options: cullFrequency, maxEntries, serializer",
    );
  });

  it("refuses an unknown name in the shared tier's setting, by URL, by key and by option", () => {
    expect(() => new TieredCache({ options: { shared: 'redis://127.0.0.1:6379/0?timout=5' } })).toThrow(suggesting('timeout'));
    expect(() => new TieredCache({ options: { shared: { ...SHARED, keyPrefx: 'p' } as never } })).toThrow(suggesting('keyPrefix'));
    expect(() => new TieredCache({ options: { shared: { ...SHARED, options: { poolSise: 2 } } } })).toThrow(suggesting('poolSize'));
  });
});
