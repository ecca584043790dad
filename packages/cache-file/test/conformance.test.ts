import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerConformanceSuite } from '@cachette/cache-conformance';
import { FileCache } from '../src/index';

// Every cache of the suite shares this one directory, as Django's test aliases share one LOCATION.
const directory = mkdtempSync(join(tmpdir(), 'cachette-file-conformance-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

registerConformanceSuite(
  { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll },
  {
    name: 'file',
    createCache: (params) => new FileCache({ ...params, location: directory }),
    capabilities: {
      // Increments hold a lock file per key.
      atomicIncr: true,
      culling: { afterCull: 29, afterZeroCull: 19 },
      touchRevivesExpired: false,
      timeoutGranularity: 1,
      values: 'v8',
    },
  },
);
