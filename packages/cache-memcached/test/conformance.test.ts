import { registerConformanceSuite } from '@cachette/cache-conformance';
import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { MemcachedCache } from '../src/index';
import { liveItemCount } from './live-item-count';

const skip = await serverSkipReason('memcached');

const capabilities = {
  validatesKeysStrictly: true,
  atomicIncr: true,
  maxKeyLength: 250,
  // The test servers run with memcached's default item size limit (-I 1m).
  maxValueBytes: 1024 * 1024,
  timeoutGranularity: 1,
  clearIsGlobal: true,
  culling: false,
} as const;

// The suite checks cache semantics, not failure detection: a generous operation timeout keeps a
// machine loaded by parallel test files from failing it (failure detection has its own tests).
const targets = [
  ...(['text', 'binary'] as const).flatMap((protocol) => [1, 3].map((serverCount) => ({ protocol, serverCount, serializer: 'v8' as const }))),
  // The JSON serializer once, for its own flag and the JSON-only value rules.
  { protocol: 'text' as const, serverCount: 1, serializer: 'json' as const },
  // Django's flags (pymemcache's), on both protocols.
  ...(['text', 'binary'] as const).map((protocol) => ({ protocol, serverCount: 1, serializer: 'pickle' as const })),
];

for (const { protocol, serverCount, serializer } of targets) {
  const name = `memcached ${protocol}, ${serverCount} server${serverCount > 1 ? 's' : ''}${serializer === 'v8' ? '' : `, ${serializer} serializer`}`;
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
          new MemcachedCache({ ...params, location: servers.map((server) => server.url), options: { ...params.options, protocol, serializer, operationTimeout: 5 } }),
        // Only the text protocol can read an expiry (meta get); the binary one rejects ttl.
        // With pickle, counters are Django's: decr stops at 0, so Python can still increment them.
        capabilities: { ...capabilities, values: serializer, ttl: protocol === 'text', counters: serializer === 'pickle' ? 'stopAtZero' : 'signed' },
        storedEntryCount: async () => (await Promise.all(servers.map(liveItemCount))).reduce((sum, count) => sum + count, 0),
      },
    );
  });
}
