import { mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerConformanceSuite, type Capabilities } from '@cachette/cache-conformance';
import { FileCache, type FileCacheOptions } from '../src/index';

const CAPABILITIES: Partial<Capabilities> = {
  // Increments hold a lock file per key.
  atomicIncr: true,
  culling: { afterCull: 29, afterZeroCull: 19 },
  touchRevivesExpired: false,
  timeoutGranularity: 1,
};

/** Every cache of one suite shares one directory, as Django's test aliases share one LOCATION. */
function registerFileSuite(name: string, options: FileCacheOptions, values: Capabilities['values']): void {
  const directory = mkdtempSync(join(tmpdir(), `cachette-file-conformance-${options.serializer ?? 'v8'}-`));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  registerConformanceSuite(
    { describe, it, expect, beforeEach, afterEach, beforeAll, afterAll },
    {
      name,
      createCache: (params) => new FileCache({ ...params, location: directory, options: { ...params.options, ...options } }),
      capabilities: { ...CAPABILITIES, values },
      // Entry files are named by the MD5 of the made key; temporary and lock files are not counted.
      storedEntryCount: async () => (await readdir(directory)).filter((name) => /^[0-9a-f]{32}\.[a-z]+$/.test(name)).length,
    },
  );
}

registerFileSuite('file', {}, 'v8');

registerFileSuite('file (pickle)', { serializer: 'pickle' }, 'pickle');
