import { join } from 'node:path';
import { redisServerBinary } from './binaries.js';
import { exchange, hasLine, type ProbeTarget } from './probe.js';
import { inTempDir, removeTempDir, startOnFreePorts } from './process.js';
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

async function startLocalRedis(options: RedisOptions): Promise<RedisTestServer> {
  return inTempDir('redis', undefined, async (dir) => {
    const socketPath = options.unixSocket ? join(dir, 'redis.sock') : undefined;
    const binary = redisServerBinary() ?? 'redis-server';
    const { process: server, ports } = await startOnFreePorts(options.tls ? 2 : 1, ([port = 0, tlsPort = 0]) => ({
      label: 'redis-server',
      command: binary,
      args: [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
        ...['--daemonize', 'no', '--logfile', ''],
        ...(socketPath ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
        ...(options.tls ? tlsArgs(options.tls, tlsPort) : []),
        ...passwordArgs(options.password),
        ...(options.args ?? []),
      ],
      isReady: () => redisAnswers({ port }),
    }));
    const [port = 0, tlsPort] = ports;
    const endpoint = { host: '127.0.0.1', port };
    const base = localServer('redis', { ...endpoint, url: redisUrl(endpoint), ...(socketPath && { socketPath }) }, server, () => removeTempDir(dir));
    return tlsPort === undefined ? base : { ...base, tlsPort };
  });
}
