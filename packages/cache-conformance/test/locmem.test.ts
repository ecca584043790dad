import { LocMemCache } from '@cachette/cache-locmem';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerConformanceSuite } from '../src/index';

registerConformanceSuite({ describe, it, expect, beforeEach, afterEach, beforeAll, afterAll }, {
  name: 'LocMemCache',
  createCache: (params) => new LocMemCache({ ...params, location: 'cache-conformance' }),
  // Synchronous primitives cannot interleave, so incr is atomic within the process.
  capabilities: { culling: { afterCull: 29, afterZeroCull: 19 }, atomicIncr: true, timeoutGranularity: 0.5 },
});
