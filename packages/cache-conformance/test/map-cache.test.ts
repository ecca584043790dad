import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerConformanceSuite } from '../src/index';
import { MapCache } from './map-cache';

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

// A backend with every capability at its default: the skipping paths run too.
registerConformanceSuite(api, {
  name: 'map cache (v8 values)',
  createCache: (params) => new MapCache({ ...params, location: 'conformance-v8' }),
  capabilities: { timeoutGranularity: 0.5 },
});

registerConformanceSuite(api, {
  name: 'map cache (json values)',
  createCache: (params) => new MapCache({ ...params, location: 'conformance-json', options: { ...params.options, serializer: 'json' } }),
  capabilities: { values: 'json', timeoutGranularity: 0.5, largeValueBytes: 64 * 1024 },
});

/** Clears only the keys of its own prefix and version, so tests must keep to keys of their own. */
class ScopedClearMapCache extends MapCache {
  override async clear(): Promise<void> {
    const ownPrefix = this.makeKey('');
    for (const key of this.entries.keys()) if (key.startsWith(ownPrefix)) this.entries.delete(key);
  }
}

registerConformanceSuite(api, {
  name: 'map cache (clear limited to its prefix)',
  createCache: (params) => new ScopedClearMapCache({ ...params, location: 'conformance-scoped' }),
  capabilities: { clearIsGlobal: false, timeoutGranularity: 0.5 },
});
