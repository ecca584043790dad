import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, lookupUser, runningAsRoot, versionedSubdirs } from './system.js';

/** Locating the local server binaries and what they were built with; looked up once per process. */
function once<T>(compute: () => T): () => T {
  let computed = false;
  let value: T;
  return () => {
    if (!computed) {
      value = compute();
      computed = true;
    }
    return value;
  };
}

export const redisServerBinary = once(() => findExecutable(['redis-server']));

export const redisCliBinary = once(() => findExecutable(['redis-cli']));

export const memcachedBinary = once(() => findExecutable(['memcached']));

export const opensslBinary = once(() => findExecutable(['openssl']));

/** `memcached -h` lists -Z only when built with TLS and -S only when built with SASL. */
export const memcachedFeatures = once(() => {
  const binary = memcachedBinary();
  let help = '';
  if (binary) {
    try {
      help = execFileSync(binary, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      help = String((error as { stdout?: string }).stdout ?? '');
    }
  }
  return { tls: /--enable-ssl/.test(help), sasl: /--enable-sasl/.test(help) };
});

export const saslpasswd2Binary = once(() => findExecutable(['saslpasswd2']));

const SASL_PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu/sasl2', '/usr/lib/aarch64-linux-gnu/sasl2', '/usr/lib/sasl2', '/usr/lib64/sasl2'];

/** Cyrus SASL's PLAIN mechanism and sasldb password store, which memcached's SASL goes through. */
export const saslPluginsInstalled = once(() =>
  ['libplain.so.2', 'libsasldb.so.2'].every((plugin) => SASL_PLUGIN_DIRS.some((dir) => existsSync(join(dir, plugin)))),
);

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** For a streaming replica (`startPostgresReplication`); absent from some distributions' server packages. */
  basebackup?: string;
  psql?: string;
}

/** PATH first (a distribution that links them there), then Debian's versioned directories. */
export const postgresBinaries = once((): PostgresBinaries | undefined => {
  const dirs = versionedSubdirs('/usr/lib/postgresql').map((dir) => join(dir, 'bin'));
  const initdb = findExecutable(['initdb'], dirs);
  if (!initdb) return undefined;
  const binDir = join(initdb, '..');
  const postgres = findExecutable(['postgres'], [binDir]);
  if (!postgres) return undefined;
  return { initdb, postgres, basebackup: findExecutable(['pg_basebackup'], [binDir]), psql: findExecutable(['psql'], [binDir]) };
});

export interface MariaDbBinaries {
  server: string;
  installDb: string;
}

export const mariaDbBinaries = once((): MariaDbBinaries | undefined => {
  const server = findExecutable(['mariadbd', 'mysqld']);
  const installDb = findExecutable(['mariadb-install-db', 'mysql_install_db']);
  return server && installDb ? { server, installDb } : undefined;
});

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user. */
export const postgresUser = once(() => (runningAsRoot() ? lookupUser('postgres') : undefined));

/** memcached refuses to run as root without `-u`; as root we give it `nobody`. */
export const memcachedUser = once(() => (runningAsRoot() ? lookupUser('nobody') : undefined));
