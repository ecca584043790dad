import { registerConformanceSuite } from '@cachette/cache-conformance';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { MemcachedCache } from '../src/index';

const skip = await serverSkipReason('memcached');

const capabilities = {
  validatesKeysStrictly: true,
  atomicIncr: true,
  maxKeyLength: 250,
  timeoutGranularity: 1,
  clearIsGlobal: true,
  culling: false,
  values: 'v8',
} as const;

for (const protocol of ['text', 'binary'] as const) {
  for (const serverCount of [1, 3]) {
    const name = `memcached ${protocol}, ${serverCount} server${serverCount > 1 ? 's' : ''}`;
    describe.skipIf(skip)(`${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
      const servers: TestServer[] = [];
      beforeAll(async () => {
        servers.push(...(await Promise.all(Array.from({ length: serverCount }, () => startMemcached()))));
      });
      afterAll(() => Promise.all(servers.map((server) => server.stop())));

      registerConformanceSuite(
        { describe, it, expect, beforeEach, afterEach, afterAll },
        {
          name,
          createCache: (params) =>
            new MemcachedCache({ ...params, location: servers.map((server) => server.url), options: { ...params.options, protocol } }),
          capabilities,
        },
      );
    });
  }
}
