import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireSource } from './availability.js';
import { mariaDbBinaries } from './binaries.js';
import { startContainer } from './containers.js';
import { endpointOfUrl, envSetting } from './env.js';
import { exchange, type ProbeTarget } from './probe.js';
import { makeTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { localServer, stripControl, uncontrolledServer } from './server.js';
import { runCommand, runningAsRoot } from './system.js';
import type { Endpoint, TestServer } from './types.js';

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
  switch (await requireSource('mariadb')) {
    case 'env': {
      const url = envSetting('mariadb') ?? '';
      return stripControl(uncontrolledServer('mariadb', 'env', { ...endpointOfUrl('mariadb', url), url }, async () => {}));
    }
    case 'container': {
      const server = await startContainer('mariadb', {
        image: 'mariadb:11',
        port: 3306,
        environment: { MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_DATABASE: MARIADB_TEST_DATABASE },
        address: (endpoint) => ({ ...endpoint, url: mariaDbUrl(endpoint) }),
        isReady: mariaDbAnswers,
      });
      return stripControl(server);
    }
    case 'local':
      return startLocalMariaDb();
  }
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

async function startLocalMariaDb(): Promise<TestServer> {
  const binaries = mariaDbBinaries();
  if (!binaries) throw new Error('MariaDB binaries disappeared');
  const dir = makeTempDir('mariadb');
  const dataDir = join(dir, 'data');
  const initFile = join(dir, 'init.sql');
  // --no-defaults first: the machine's /etc/mysql config must not leak into the test server.
  const userArgs = runningAsRoot() ? ['--user=root'] : [];
  try {
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
    return stripControl(localServer('mariadb', { ...endpoint, url: mariaDbUrl(endpoint) }, server, () => removeTempDir(dir)));
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}
