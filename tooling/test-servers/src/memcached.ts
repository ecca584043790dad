import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memcachedBinary, memcachedUser, saslpasswd2Binary } from './binaries.js';
import { envSetting, hostPort, nextEnvMemcached } from './env.js';
import { exchange, type ProbeTarget } from './probe.js';
import { inTempDir, removeTempDir, startOnFreePorts } from './process.js';
import { localServer, uncontrolledServer } from './server.js';
import { runCommand } from './system.js';
import { startFromBestSource } from './start.js';
import type { ControllableServer, TlsFiles } from './types.js';

export interface MemcachedOptions {
  /** Extra memcached arguments, e.g. `['-I', '2m']`. */
  args?: string[];
  /** Listen on a unix socket only (memcached's -s turns TCP off): `socketPath`, `url` is `unix:<path>`. */
  unixSocket?: boolean;
  /** Serve TLS only (-Z) on the port. */
  tls?: TlsFiles;
  /** Require SASL PLAIN authentication with this one user (binary protocol only, as memcached does). */
  sasl?: { username: string; password: string };
}

const BINARY_HEADER_LENGTH = 24;
/** A binary-protocol VERSION request: magic 0x80, opcode 0x0b, everything else zero. */
const BINARY_VERSION_REQUEST = Buffer.from([0x80, 0x0b, ...new Array<number>(BINARY_HEADER_LENGTH - 2).fill(0)]);

const isWholeBinaryResponse = (reply: Buffer): boolean =>
  reply.length >= BINARY_HEADER_LENGTH && reply.length >= BINARY_HEADER_LENGTH + reply.readUInt32BE(8);

/**
 * memcached accepts the binary protocol in every mode (text is off under SASL), and answers
 * VERSION, even before authentication, with a response (magic 0x81).
 */
async function memcachedAnswers(target: ProbeTarget): Promise<boolean> {
  const reply = await exchange(target, BINARY_VERSION_REQUEST, isWholeBinaryResponse);
  return reply?.[0] === 0x81;
}

export async function startMemcached(options: MemcachedOptions = {}): Promise<ControllableServer> {
  const needs = {
    tls: options.tls !== undefined,
    sasl: options.sasl !== undefined,
    unixSocket: options.unixSocket,
    configuration: options.args !== undefined,
  };
  return startFromBestSource('memcached', needs, {
    fromEnv: () => {
      const endpoint = nextEnvMemcached(envSetting('memcached') ?? '');
      return uncontrolledServer('memcached', 'env', { ...endpoint, url: hostPort(endpoint) }, async () => {});
    },
    container: {
      image: 'memcached:1.6-alpine',
      port: 11211,
      command: ['memcached', ...(options.args ?? [])],
      address: (endpoint) => ({ ...endpoint, url: hostPort(endpoint) }),
      isReady: memcachedAnswers,
    },
    startLocal: () => startLocalMemcached(options),
  });
}

/**
 * Debian's memcached is built without MEMCACHED_SASL_PWDB support, so the user goes into a Cyrus
 * sasldb of our own, named by a memcached.conf in our own SASL config dir (SASL_CONF_PATH), which
 * also pins the mechanism to PLAIN so the machine's SASL setup never leaks in.
 */
async function writeSaslFiles(dir: string, sasl: { username: string; password: string }): Promise<NodeJS.ProcessEnv> {
  const database = join(dir, 'sasldb2');
  await runCommand(saslpasswd2Binary() ?? 'saslpasswd2', ['-p', '-c', '-a', 'memcached', '-f', database, sasl.username], {
    input: sasl.password,
  });
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${database}\n`, { mode: 0o644 });
  const user = memcachedUser();
  if (user) chownSync(database, user.uid, user.gid);
  return { SASL_CONF_PATH: dir };
}

function listenArgs(port: number, socketPath: string | undefined): string[] {
  return socketPath ? ['-s', socketPath, '-a', '0700'] : ['-l', '127.0.0.1', '-p', String(port), '-U', '0'];
}

const tlsArgs = (tls: TlsFiles): string[] => ['-Z', '-o', `ssl_chain_cert=${tls.certFile},ssl_key=${tls.keyFile}`];

async function startLocalMemcached(options: MemcachedOptions): Promise<ControllableServer> {
  const user = memcachedUser();
  // memcached drops to `nobody` as root: the directory must be that user's for the socket and files.
  return inTempDir('memcached', user, async (dir) => {
    const socketPath = options.unixSocket ? join(dir, 'memcached.sock') : undefined;
    const env = options.sasl ? await writeSaslFiles(dir, options.sasl) : {};
    const { process: server, ports } = await startOnFreePorts(socketPath ? 0 : 1, ([port = 0]) => ({
      label: 'memcached',
      command: memcachedBinary() ?? 'memcached',
      args: [
        ...listenArgs(port, socketPath),
        ...(user ? ['-u', 'nobody'] : []),
        ...(options.tls ? tlsArgs(options.tls) : []),
        ...(options.sasl ? ['-S'] : []),
        ...(options.args ?? []),
      ],
      env,
      // It keeps nothing on disk, and it only notices SIGTERM on its once-a-second clock tick.
      stopSignal: 'SIGKILL',
      isReady: () => memcachedAnswers(socketPath ? { path: socketPath } : { port, tls: options.tls !== undefined }),
    }));
    const endpoint = { host: '127.0.0.1', port: ports[0] ?? 0 };
    const address = socketPath ? { ...endpoint, url: `unix:${socketPath}`, socketPath } : { ...endpoint, url: hostPort(endpoint) };
    return localServer('memcached', address, server, () => removeTempDir(dir));
  });
}
