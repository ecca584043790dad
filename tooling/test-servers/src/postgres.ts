import { join } from 'node:path';
import { requireSource } from './availability.js';
import { postgresBinaries, postgresUser } from './binaries.js';
import { startContainer } from './containers.js';
import { endpointOfUrl, envSetting } from './env.js';
import { makeTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { stripControl, uncontrolledServer } from './server.js';
import { localServer } from './server.js';
import { runCommand } from './system.js';
import type { Endpoint, TestServer } from './types.js';

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
  switch (await requireSource('postgres')) {
    case 'env': {
      const url = envSetting('postgres') ?? '';
      return stripControl(uncontrolledServer('postgres', 'env', { ...endpointOfUrl('postgres', url), url }, async () => {}));
    }
    case 'container': {
      const server = await startContainer('postgres', {
        image: 'postgres:15-alpine',
        port: 5432,
        environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
        command: ['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        address: (endpoint) => ({ ...endpoint, url: postgresUrl(endpoint) }),
        // Without a local pg_isready, fall back to "the port answers" once the container says it is up.
        isReady: async (endpoint) => (postgresBinaries() ? postgresAnswers(endpoint) : true),
      });
      return stripControl(server);
    }
    case 'local':
      return startLocalPostgres();
  }
}

/** Durability is pointless for a throwaway test cluster; these make it start and write fast. */
const SPEED_SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

async function startLocalPostgres(): Promise<TestServer> {
  const binaries = postgresBinaries();
  if (!binaries) throw new Error('PostgreSQL binaries disappeared');
  const user = postgresUser();
  // As root the cluster belongs to the `postgres` user, which PostgreSQL insists on.
  const dir = makeTempDir('postgres', user);
  const dataDir = join(dir, 'data');
  const env = { LC_ALL: 'C', LANG: 'C' };
  try {
    await runCommand(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { env, user });
    const { process: server, ports } = await startOnFreePorts(1, ([port = 0]) => ({
      label: 'postgres',
      command: binaries.postgres,
      args: [
        ...['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
        ...SPEED_SETTINGS.flatMap((setting) => ['-c', setting]),
      ],
      env,
      user,
      stopSignal: 'SIGINT', // "fast" shutdown: SIGTERM would wait for every client to leave
      isReady: () => postgresAnswers({ host: '127.0.0.1', port }),
    }));
    const endpoint = { host: '127.0.0.1', port: ports[0] ?? 0 };
    return stripControl(localServer('postgres', { ...endpoint, url: postgresUrl(endpoint) }, server, () => removeTempDir(dir)));
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}
