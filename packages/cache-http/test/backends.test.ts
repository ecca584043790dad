// Pages stored in every backend, through the node:http adapter: entries are plain data that every
// serializer stores (the JSON one too), so any cache can hold them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseCache } from '@cachette/cache-core';
import { FileCache } from '@cachette/cache-file';
import { LocMemCache } from '@cachette/cache-locmem';
import { MemcachedCache } from '@cachette/cache-memcached';
import { RedisCache } from '@cachette/cache-redis';
import { SqlCache } from '@cachette/cache-sql';
import { serverSkipReason, startMariaDb, startMemcached, startPostgres, startRedis, type TestServer } from '@cachette/test-servers';
import { afterAll, describe } from 'vitest';
import { startNode } from './adapters/apps';
import { describeAdapter } from './adapters/scenarios';

const directory = mkdtempSync(join(tmpdir(), 'cachette-http-backends-'));
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(directory, { recursive: true, force: true });
});

async function started<T extends TestServer>(server: Promise<T>): Promise<T> {
  servers.push(await server);
  return servers.at(-1) as T;
}

describeAdapter('locmem (JSON serializer)', startNode, () => new LocMemCache({ location: 'backends-json', options: { serializer: 'json' } }));
describeAdapter('file', startNode, () => new FileCache({ location: join(directory, 'file-cache') }));
describeAdapter('SQLite', startNode, () => new SqlCache({ location: `sqlite://${join(directory, 'cache.db')}` }));

const networked: Array<[string, 'redis' | 'memcached' | 'postgres' | 'mariadb', () => Promise<BaseCache>]> = [
  ['Redis', 'redis', async () => new RedisCache({ location: (await started(startRedis())).url })],
  ['Redis (JSON serializer)', 'redis', async () => new RedisCache({ location: (await started(startRedis())).url, options: { serializer: 'json' } })],
  ['memcached', 'memcached', async () => {
    const server = await started(startMemcached());
    return new MemcachedCache({ location: `${server.host}:${server.port}` });
  }],
  ['PostgreSQL', 'postgres', async () => new SqlCache({ location: (await started(startPostgres())).url })],
  ['MariaDB', 'mariadb', async () => new SqlCache({ location: (await started(startMariaDb())).url })],
];

for (const [name, kind, makeCache] of networked) {
  const skip = await serverSkipReason(kind);
  if (skip) describe.skip(`${name} (skipped: ${skip})`, () => {});
  else describeAdapter(`node:http over ${name}`, startNode, makeCache);
}
