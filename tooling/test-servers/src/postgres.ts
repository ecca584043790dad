import { join } from 'node:path';
import { postgresBinaries, postgresUser } from './binaries.js';
import { inTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { envUrlServer, localServer, stripControl } from './server.js';
import { startFromBestSource } from './start.js';
import { runCommand } from './system.js';
import type { ControllableServer, Endpoint, TestServer } from './types.js';

const postgresUrl = ({ host, port }: Endpoint): string => `postgres://postgres@${host}:${port}/postgres`;

/** pg_isready tells "accepting connections" apart from "starting up"; a bare TCP connect cannot. */
async function postgresAnswers({ host, port }: Endpoint): Promise<boolean> {
  const pgIsready = postgresBinaries()?.pgIsready;
  if (!pgIsready) return false;
  try {
    await runCommand(pgIsready, ['-q', '-h', host, '-p', String(port), '-U', 'postgres', '-t', '2'], { timeoutMs: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export async function startPostgres(): Promise<TestServer> {
  const server = await startFromBestSource('postgres', {}, {
    fromEnv: () => envUrlServer('postgres'),
    container: {
      image: 'postgres:15-alpine',
      port: 5432,
      environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      command: ['postgres', ...speedArgs()],
      address: (endpoint) => ({ ...endpoint, url: postgresUrl(endpoint) }),
      // Without a local pg_isready, "the port answers" (the container's wait strategy) must do.
      isReady: async (endpoint) => (postgresBinaries() ? postgresAnswers(endpoint) : true),
    },
    startLocal: startLocalPostgres,
  });
  return stripControl(server);
}

/** Durability is pointless for a throwaway test cluster; these make it start and write fast. */
const speedArgs = (): string[] => ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'].flatMap((setting) => ['-c', setting]);

async function startLocalPostgres(): Promise<ControllableServer> {
  const binaries = postgresBinaries();
  if (!binaries) throw new Error('PostgreSQL binaries disappeared');
  const user = postgresUser();
  // As root the cluster belongs to the `postgres` user, which PostgreSQL insists on.
  return inTempDir('postgres', user, async (dir) => {
    const dataDir = join(dir, 'data');
    const env = { LC_ALL: 'C', LANG: 'C' };
    await runCommand(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { env, user });
    const { process: server, ports } = await startOnFreePorts(1, ([port = 0]) => ({
      label: 'postgres',
      command: binaries.postgres,
      args: [
        ...['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
        ...speedArgs(),
      ],
      env,
      user,
      stopSignal: 'SIGINT', // "fast" shutdown: SIGTERM would wait for every client to leave
      isReady: () => postgresAnswers({ host: '127.0.0.1', port }),
    }));
    const endpoint = { host: '127.0.0.1', port: ports[0] ?? 0 };
    return localServer('postgres', { ...endpoint, url: postgresUrl(endpoint) }, server, () => removeTempDir(dir));
  });
}
