import { serverSkipReason, startMemcached, type TestServer } from '@cachette/test-servers';
import { describeStampedeAcrossProcesses } from '@cachette/test-servers/stampede';
import { afterAll, beforeAll, describe } from 'vitest';

// The lock is memcached's own `add`.
const skip = await serverSkipReason('memcached');
if (skip) describe.skip(`memcached stampede across processes (skipped: ${skip})`, () => {});
else {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMemcached();
  });
  afterAll(() => server.stop());
  describeStampedeAcrossProcesses('MemcachedCache on one server', () => ({
    module: '@cachette/cache-memcached',
    className: 'MemcachedCache',
    params: { location: `${server.host}:${server.port}` },
  }));
}
