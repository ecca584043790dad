import { serverSkipReason, startRedis, type TestServer } from '@cachette/test-servers';
import { describeStampedeAcrossProcesses } from '@cachette/test-servers/stampede';
import { afterAll, beforeAll, describe } from 'vitest';

// The lock is `SET NX PX` with a token, freed by a compare-and-delete script.
const skip = await serverSkipReason('redis');
if (skip) describe.skip(`redis stampede across processes (skipped: ${skip})`, () => {});
else {
  let server: TestServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server.stop());
  describeStampedeAcrossProcesses('RedisCache on one server', () => ({ module: '@cachette/cache-redis', className: 'RedisCache', params: { location: server.url } }));
}
