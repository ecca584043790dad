import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serverSkipReason, startMariaDb, startMemcached, startPostgres, startRedis } from './index.js';
import { processesWith } from './test-helpers.js';

const VARIABLES = ['CACHETTE_REDIS_URL', 'CACHETTE_MEMCACHED_SERVERS', 'CACHETTE_POSTGRES_URL', 'CACHETTE_MYSQL_URL', 'CACHETTE_REQUIRE_SERVERS'];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

// Each test starts from none of them set, whatever the outer environment (CI sets REQUIRE).
beforeEach(() => {
  for (const name of VARIABLES) delete process.env[name];
});
afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

// Ports nothing listens on: an env server is taken at its word, never contacted or started.
describe('servers from the environment come first', () => {
  it('uses CACHETTE_REDIS_URL as given, without starting a process', async () => {
    process.env.CACHETTE_REDIS_URL = 'redis://127.0.0.1:1/3';
    const server = await startRedis();
    expect(server).toMatchObject({ kind: 'redis', source: 'env', host: '127.0.0.1', port: 1, url: 'redis://127.0.0.1:1/3' });
    expect(processesWith('redis-server', '127.0.0.1:1')).toEqual([]);
    await server.stop();
    await expect(server.restart()).rejects.toThrow(/cannot be killed, restarted or paused/);
    expect(() => server.pause()).toThrow(/serverSkipReason\('redis', \{ control: true \}\)/);
  });

  it('hands out successive CACHETTE_MEMCACHED_SERVERS entries and says when they run out', async () => {
    process.env.CACHETTE_MEMCACHED_SERVERS = '127.0.0.1:2, [::1]:3';
    const first = await startMemcached();
    const second = await startMemcached();
    expect([first, second]).toMatchObject([
      { source: 'env', host: '127.0.0.1', port: 2, url: '127.0.0.1:2' },
      { source: 'env', host: '::1', port: 3, url: '[::1]:3' },
    ]);
    await expect(startMemcached()).rejects.toThrow(/CACHETTE_MEMCACHED_SERVERS lists 2 server\(s\)/);
  });

  it('uses CACHETTE_POSTGRES_URL and CACHETTE_MYSQL_URL with default ports', async () => {
    process.env.CACHETTE_POSTGRES_URL = 'postgres://someone@127.0.0.1/db';
    process.env.CACHETTE_MYSQL_URL = 'mysql://root:pw@127.0.0.1:4/db';
    expect(await startPostgres()).toMatchObject({ source: 'env', port: 5432, url: 'postgres://someone@127.0.0.1/db' });
    expect(await startMariaDb()).toMatchObject({ source: 'env', port: 4, url: 'mysql://root:pw@127.0.0.1:4/db' });
  });

  it('reports needs an external server cannot meet, and refuses to start with them', async () => {
    process.env.CACHETTE_REDIS_URL = 'redis://127.0.0.1:1';
    expect(await serverSkipReason('redis')).toBeUndefined();
    expect(await serverSkipReason('redis', { tls: true, control: true })).toBe(
      'CACHETTE_REDIS_URL points at an external server, which cannot offer TLS, kill/restart/pause/resume',
    );
    await expect(startRedis({ unixSocket: true })).rejects.toThrow(/cannot offer a unix socket/);
  });

  it('throws instead of skipping under CACHETTE_REQUIRE_SERVERS=1', async () => {
    process.env.CACHETTE_REDIS_URL = 'redis://127.0.0.1:1';
    process.env.CACHETTE_REQUIRE_SERVERS = '1';
    await expect(serverSkipReason('redis', { unixSocket: true })).rejects.toThrow(
      /CACHETTE_REQUIRE_SERVERS is set but no redis test server can be had: CACHETTE_REDIS_URL points/,
    );
  });
});
