import { join } from 'node:path';
import { redisServerBinary } from './binaries.js';
import { exchange, hasLine, type ProbeTarget } from './probe.js';
import { inTempDir, removeTempDir, startOnFreePorts, type ServerProcess } from './process.js';
import { envUrlServer, localServer } from './server.js';
import { startFromBestSource } from './start.js';
import type { ControllableServer, Endpoint, TlsFiles } from './types.js';

export interface RedisOptions {
  /** Extra redis-server arguments, e.g. `['--maxmemory', '1mb']`. */
  args?: string[];
  /** Also listen on a unix socket (`socketPath`). */
  unixSocket?: boolean;
  /** Also listen with TLS on `tlsPort` (clients are not asked for certificates). */
  tls?: TlsFiles;
  /** `requirepass`: clients must AUTH; tests may add ACL users with `ACL SETUSER`. */
  password?: string;
}

export type RedisTestServer = ControllableServer & { tlsPort?: number };

/** PING answers +PONG, or -NOAUTH when a password is set: either way the server is up. */
async function redisAnswers(target: ProbeTarget): Promise<boolean> {
  const reply = await exchange(target, 'PING\r\n', hasLine);
  return reply !== undefined && /^(\+PONG|-NOAUTH)/.test(reply.toString('latin1'));
}

const redisUrl = ({ host, port }: Endpoint): string => `redis://${host}:${port}`;

export async function startRedis(options: RedisOptions = {}): Promise<RedisTestServer> {
  const needs = {
    tls: options.tls !== undefined,
    unixSocket: options.unixSocket,
    configuration: options.args !== undefined || options.password !== undefined,
  };
  return startFromBestSource('redis', needs, {
    fromEnv: () => envUrlServer('redis'),
    container: {
      image: 'redis:7-alpine',
      port: 6379,
      command: ['redis-server', ...passwordArgs(options.password), ...(options.args ?? [])],
      address: (endpoint) => ({ ...endpoint, url: redisUrl(endpoint) }),
      isReady: redisAnswers,
    },
    startLocal: () => startLocalRedis(options),
  });
}

const passwordArgs = (password: string | undefined): string[] => (password === undefined ? [] : ['--requirepass', password]);

function tlsArgs(tls: TlsFiles, tlsPort: number): string[] {
  return [
    ...['--tls-port', String(tlsPort), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile],
    ...['--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no'],
  ];
}

/** A redis-server child process of our own, with what callers beyond `startRedis` need of it. */
export interface LocalRedis {
  server: ControllableServer;
  serverProcess: ServerProcess;
  dir: string;
  /** The ports asked for beyond `server.port`, in order. */
  extraPorts: number[];
}

/**
 * Starts redis-server in a fresh directory on a free loopback port, plus `extraPortCount` more
 * ports (TLS, a cluster bus) that `moreArgs` puts on its command line.
 */
export async function startRedisProcess(
  prefix: string,
  extraPortCount: number,
  moreArgs: (dir: string, extraPorts: number[]) => string[],
): Promise<LocalRedis> {
  return inTempDir(prefix, undefined, async (dir) => {
    const binary = redisServerBinary() ?? 'redis-server';
    const { process: serverProcess, ports } = await startOnFreePorts(1 + extraPortCount, ([port = 0, ...extraPorts]) => ({
      label: 'redis-server',
      command: binary,
      args: [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
        ...['--daemonize', 'no', '--logfile', ''],
        ...moreArgs(dir, extraPorts),
      ],
      isReady: () => redisAnswers({ port }),
    }));
    const [port = 0, ...extraPorts] = ports;
    const endpoint = { host: '127.0.0.1', port };
    const server = localServer('redis', { ...endpoint, url: redisUrl(endpoint) }, serverProcess, () => removeTempDir(dir));
    return { server, serverProcess, dir, extraPorts };
  });
}

const socketIn = (dir: string): string => join(dir, 'redis.sock');

async function startLocalRedis(options: RedisOptions): Promise<RedisTestServer> {
  const { server, dir, extraPorts } = await startRedisProcess('redis', options.tls ? 1 : 0, (dir, [tlsPort = 0]) => [
    ...(options.unixSocket ? ['--unixsocket', socketIn(dir), '--unixsocketperm', '700'] : []),
    ...(options.tls ? tlsArgs(options.tls, tlsPort) : []),
    ...passwordArgs(options.password),
    ...(options.args ?? []),
  ]);
  const [tlsPort] = extraPorts;
  return { ...server, ...(options.unixSocket && { socketPath: socketIn(dir) }), ...(tlsPort !== undefined && { tlsPort }) };
}
