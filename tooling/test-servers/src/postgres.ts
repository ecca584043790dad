import { join } from 'node:path';
import { postgresBinaries, postgresUser } from './binaries.js';
import { exchange, type ProbeTarget } from './probe.js';
import { inTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { envUrlServer, localServer, stripControl } from './server.js';
import { startFromBestSource } from './start.js';
import { runCommand } from './system.js';
import type { ControllableServer, Endpoint, TestServer } from './types.js';

export const postgresUrl = ({ host, port }: Endpoint): string => `postgres://postgres@${host}:${port}/postgres`;

const PROTOCOL_3_0 = 196_608;

/** A v3 StartupMessage for user and database `postgres`. */
const STARTUP_MESSAGE = ((): Buffer => {
  const parameters = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const header = Buffer.alloc(8);
  header.writeInt32BE(header.length + parameters.length, 0);
  header.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([header, parameters]);
})();

/** A whole first message: type byte, then a length that counts itself. */
const isWholeMessage = (reply: Buffer): boolean => reply.length >= 5 && reply.length >= 1 + reply.readInt32BE(1);

/**
 * Logging in tells "accepting connections" apart from "starting up" (an 'E' error), which a bare
 * TCP connect cannot: the server answers with an authentication message ('R'), as pg_isready checks.
 */
export async function postgresAnswers(target: ProbeTarget): Promise<boolean> {
  const reply = await exchange(target, STARTUP_MESSAGE, isWholeMessage);
  return reply?.toString('latin1', 0, 1) === 'R';
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
      isReady: postgresAnswers,
    },
    startLocal: startLocalPostgres,
  });
  return stripControl(server);
}

/** Durability is pointless for a throwaway test cluster; these make it start and write fast. */
export const speedSettings = (): string[] => ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];
const speedArgs = (): string[] => speedSettings().flatMap((setting) => ['-c', setting]);

/** Always a local binary, so it can be killed and restarted (the soak does). */
export async function startLocalPostgres(): Promise<ControllableServer> {
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
      isReady: () => postgresAnswers({ port }),
    }));
    const endpoint = { host: '127.0.0.1', port: ports[0] ?? 0 };
    return localServer('postgres', { ...endpoint, url: postgresUrl(endpoint) }, server, () => removeTempDir(dir));
  });
}
