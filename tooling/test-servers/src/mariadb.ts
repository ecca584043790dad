import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mariaDbBinaries } from './binaries.js';
import { exchange, type ProbeTarget } from './probe.js';
import { inTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { envUrlServer, localServer, stripControl } from './server.js';
import { startFromBestSource } from './start.js';
import { runCommand, runningAsRoot } from './system.js';
import type { ControllableServer, Endpoint, TestServer } from './types.js';

export const MARIADB_TEST_DATABASE = 'cachette_test';

const mariaDbUrl = ({ host, port }: Endpoint): string => `mysql://root@${host}:${port}/${MARIADB_TEST_DATABASE}`;

const PACKET_HEADER_LENGTH = 4;
const HANDSHAKE_V10 = 10;

const isWholePacket = (reply: Buffer): boolean =>
  reply.length >= PACKET_HEADER_LENGTH && reply.length >= PACKET_HEADER_LENGTH + reply.readUIntLE(0, 3);

/** The server speaks first: a handshake packet (protocol 10) means it accepts logins; 0xff is an error. */
async function mariaDbAnswers(target: ProbeTarget): Promise<boolean> {
  const greeting = await exchange(target, undefined, isWholePacket);
  return greeting?.[PACKET_HEADER_LENGTH] === HANDSHAKE_V10;
}

export async function startMariaDb(): Promise<TestServer> {
  const server = await startFromBestSource('mariadb', {}, {
    fromEnv: () => envUrlServer('mariadb'),
    container: {
      image: 'mariadb:11',
      port: 3306,
      environment: { MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_DATABASE: MARIADB_TEST_DATABASE },
      address: (endpoint) => ({ ...endpoint, url: mariaDbUrl(endpoint) }),
      isReady: mariaDbAnswers,
    },
    startLocal: startLocalMariaDb,
  });
  return stripControl(server);
}

/**
 * Run by the server before it opens its port: the test database, and root without a password
 * from 127.0.0.1 (with name resolution off, TCP logins match '127.0.0.1', not 'localhost').
 */
const INIT_SQL = `
CREATE DATABASE IF NOT EXISTS ${MARIADB_TEST_DATABASE};
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
`;

/** Throwaway data: small buffers and no flushing keep start-up and writes fast on a shared machine. */
const SPEED_ARGS = [
  '--innodb-buffer-pool-size=32M',
  '--innodb-log-file-size=16M',
  '--innodb-flush-log-at-trx-commit=0',
  '--innodb-doublewrite=0',
  '--skip-log-bin',
  '--performance-schema=OFF',
];

/** Always a local binary, so it can be killed and restarted (the soak does). */
export async function startLocalMariaDb(): Promise<ControllableServer> {
  const binaries = mariaDbBinaries();
  if (!binaries) throw new Error('MariaDB binaries disappeared');
  return inTempDir('mariadb', undefined, async (dir) => {
    const dataDir = join(dir, 'data');
    const initFile = join(dir, 'init.sql');
    // --no-defaults first: the machine's /etc/mysql config must not leak into the test server.
    const userArgs = runningAsRoot() ? ['--user=root'] : [];
    writeFileSync(initFile, INIT_SQL);
    await runCommand(binaries.installDb, [
      '--no-defaults',
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...userArgs,
    ]);
    const { process: server, ports } = await startOnFreePorts(1, ([port = 0]) => ({
      label: 'mariadbd',
      command: binaries.server,
      args: [
        '--no-defaults',
        ...[`--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve'],
        ...[`--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--init-file=${initFile}`],
        ...SPEED_ARGS,
        ...userArgs,
      ],
      isReady: () => mariaDbAnswers({ port }),
    }));
    const endpoint = { host: '127.0.0.1', port: ports[0] ?? 0 };
    return localServer('mariadb', { ...endpoint, url: mariaDbUrl(endpoint) }, server, () => removeTempDir(dir));
  });
}
