// The backends the soak runs, each with what it does to it during the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalMariaDb } from '../mariadb.js';
import { startMemcached } from '../memcached.js';
import { startLocalPostgres } from '../postgres.js';
import { startRedis } from '../redis.js';
import { startRedisCluster } from '../redis-cluster.js';
import type { CacheSpec } from '../stampede/workers.js';
import type { ControllableServer } from '../types.js';

/**
 * How a backend is disturbed, a few times a run: `servers` kills one of them (in turn) and
 * restarts it after `outageMs`; `workers` SIGKILLs a worker process and starts a new one (a
 * shared directory or SQLite file has no server to kill, but a process dying mid-write is its
 * own failure); `none` for locmem, whose store dies with its process.
 */
export type Disturbance =
  | { kind: 'servers'; servers: readonly ControllableServer[]; afterRestart?: () => Promise<void> }
  | { kind: 'workers' }
  | { kind: 'none' };

export interface StartedBackend {
  spec: CacheSpec;
  disturbance: Disturbance;
  stop(): Promise<void>;
}

export interface SoakBackend {
  name: string;
  start(): Promise<StartedBackend>;
}

const stopAll = (servers: readonly ControllableServer[]) => async (): Promise<void> => void (await Promise.all(servers.map((server) => server.stop())));

/** A backend on servers we start: the cache spec built from them, and their kills and restarts. */
function onServers(
  name: string,
  start: () => Promise<ControllableServer[]>,
  spec: (servers: ControllableServer[]) => CacheSpec,
): SoakBackend {
  return {
    name,
    async start() {
      const servers = await start();
      return { spec: spec(servers), disturbance: { kind: 'servers', servers }, stop: stopAll(servers) };
    },
  };
}

/** A backend on a temporary directory every worker shares; its workers are killed and replaced. */
function onDirectory(name: string, spec: (directory: string) => CacheSpec): SoakBackend {
  return {
    name,
    async start() {
      const directory = mkdtempSync(join(tmpdir(), `cachette-soak-${name}-`));
      const stop = async () => rmSync(directory, { recursive: true, force: true });
      return { spec: spec(directory), disturbance: { kind: 'workers' }, stop };
    },
  };
}

const many = <T>(count: number, start: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: count }, start));

const redisSpec = (location: string | string[], options: object = {}): CacheSpec => ({
  module: '@cachette/cache-redis',
  className: 'RedisCache',
  params: { location, options },
});

const sqlSpec = (location: string): CacheSpec => ({
  module: '@cachette/cache-sql',
  className: 'SqlCache',
  // Fail within seconds while the database is down rather than after the 30 s default.
  params: { location, options: { connectTimeout: 5, queryTimeout: 10 } },
});

const memcachedSpec = (server: ControllableServer, protocol: 'text' | 'binary'): CacheSpec => ({
  module: '@cachette/cache-memcached',
  className: 'MemcachedCache',
  // 30 processes share two cores: the 1 s default would fail healthy requests that wait for a core.
  params: { location: server.url, options: { protocol, operationTimeout: 3 } },
});

const redisCluster: SoakBackend = {
  name: 'redis cluster',
  async start() {
    const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
    // A killed primary comes back as a replica; the next kill waits until the cluster is whole.
    const afterRestart = () => cluster.waitForHealthy(60_000);
    return { spec: redisSpec(cluster.url), disturbance: { kind: 'servers', servers: cluster.nodes, afterRestart }, stop: () => cluster.stop() };
  },
};

export const BACKENDS: SoakBackend[] = [
  {
    name: 'locmem',
    start: async () => ({
      spec: { module: '@cachette/cache-locmem', className: 'LocMemCache', params: { location: 'soak' } },
      disturbance: { kind: 'none' },
      stop: async () => {},
    }),
  },
  onDirectory('file', (directory) => ({ module: '@cachette/cache-file', className: 'FileCache', params: { location: directory } })),
  onDirectory('sqlite', (directory) => sqlSpec(`sqlite://${join(directory, 'cache.db')}`)),
  onServers('postgres', async () => [await startLocalPostgres()], ([server]) => sqlSpec(server!.url)),
  onServers('mariadb', async () => [await startLocalMariaDb()], ([server]) => sqlSpec(server!.url)),
  onServers('redis', () => many(1, () => startRedis()), ([server]) => redisSpec(server!.url)),
  onServers('redis ring of 3', () => many(3, () => startRedis()), (servers) => redisSpec(servers.map((server) => server.url), { sharding: 'consistent' })),
  redisCluster,
  onServers('memcached text', () => many(1, () => startMemcached()), ([server]) => memcachedSpec(server!, 'text')),
  onServers('memcached binary', () => many(1, () => startMemcached()), ([server]) => memcachedSpec(server!, 'binary')),
];

/** One disturbance of a server backend: kill a server, leave it down `outageMs`, restart it. */
export async function killAndRestart(disturbance: Extract<Disturbance, { kind: 'servers' }>, round: number, outageMs: number): Promise<string> {
  const server = disturbance.servers[round % disturbance.servers.length]!;
  await server.kill();
  await sleep(outageMs);
  await server.restart();
  await disturbance.afterRestart?.();
  return `killed ${server.kind} :${server.port} for ${(outageMs / 1000).toFixed(1)} s`;
}
