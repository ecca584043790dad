import { DummyCache } from '@cachette/cache-core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerDummyConformance } from '../src/index';

registerDummyConformance({ describe, it, expect, beforeEach, afterEach, afterAll }, {
  name: 'DummyCache',
  createCache: (params) => new DummyCache(params),
});
