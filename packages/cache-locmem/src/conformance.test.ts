import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CacheParams } from '@cachette/cache-core';
import { registerConformanceSuite, type Capabilities } from '@cachette/cache-conformance';
import { LocMemCache } from './index';

const api = { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll };

const capabilities: Partial<Capabilities> = {
  // Single-threaded: an increment reads and writes in one synchronous step that nothing interleaves.
  atomicIncr: true,
  culling: { afterCull: 29, afterZeroCull: 19 },
  timeoutGranularity: 0.5,
};

registerConformanceSuite(api, {
  name: 'locmem',
  createCache: (params) => new LocMemCache({ location: 'conformance', ...params }),
  capabilities: { ...capabilities, values: 'v8' },
});

// With another serializer every value goes through it, immutable ones included.
registerConformanceSuite(api, {
  name: 'locmem with the json serializer',
  createCache: (params: CacheParams) =>
    new LocMemCache({ location: 'conformance-json', ...params, options: { serializer: 'json', ...params.options } }),
  capabilities: { ...capabilities, values: 'json' },
});

// Django's LocMemCache pickles every value: the same values, copied the same way.
registerConformanceSuite(api, {
  name: 'locmem with the pickle serializer',
  createCache: (params: CacheParams) =>
    new LocMemCache({ location: 'conformance-pickle', ...params, options: { serializer: 'pickle', ...params.options } }),
  capabilities: { ...capabilities, values: 'pickle' },
});
