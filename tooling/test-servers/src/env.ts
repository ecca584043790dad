import type { Endpoint, ServerKind } from './types.js';

/** The environment variable that points each kind at an external server. */
export const ENV_VARIABLES: Readonly<Record<ServerKind, string>> = {
  redis: 'CACHETTE_REDIS_URL',
  memcached: 'CACHETTE_MEMCACHED_SERVERS',
  postgres: 'CACHETTE_POSTGRES_URL',
  mariadb: 'CACHETTE_MYSQL_URL',
};

const DEFAULT_PORTS: Readonly<Record<ServerKind, number>> = {
  redis: 6379,
  memcached: 11211,
  postgres: 5432,
  mariadb: 3306,
};

/** Read at call time (not import time) so tests can set the variables themselves. */
export function envSetting(kind: ServerKind): string | undefined {
  const value = process.env[ENV_VARIABLES[kind]]?.trim();
  return value ? value : undefined;
}

/** CI sets CACHETTE_REQUIRE_SERVERS=1 so a missing server fails the run instead of skipping. */
export function serversAreRequired(): boolean {
  const value = process.env.CACHETTE_REQUIRE_SERVERS?.trim().toLowerCase();
  return value === '1' || value === 'true' || value === 'yes';
}

/** The endpoint of a URL-style setting (`redis://host:port`, `postgres://user@host:port/db`). */
export function endpointOfUrl(kind: ServerKind, url: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${ENV_VARIABLES[kind]} is not a URL: ${JSON.stringify(url)}`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[kind] };
}

/** `host:port`, IPv6 hosts in brackets: how memcached server lists and cluster seeds are written. */
export const hostPort = ({ host, port }: Endpoint): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** `host:port` (port optional), as memcached server lists are written. */
export function parseHostPort(kind: ServerKind, text: string): Endpoint {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(text.trim());
  if (!match?.[1]) throw new Error(`${ENV_VARIABLES[kind]} has an entry that is not host:port: ${JSON.stringify(text)}`);
  return { host: match[1], port: match[2] ? Number(match[2]) : DEFAULT_PORTS[kind] };
}

let memcachedEntriesHandedOut = 0;

/**
 * Successive calls hand out successive entries of CACHETTE_MEMCACHED_SERVERS, so a test asking for
 * two servers gets two different ones. Running out is an error rather than a silent reuse, which
 * would make a two-server test pass against one server.
 */
export function nextEnvMemcached(setting: string): Endpoint {
  const entries = setting.split(',').map((entry) => entry.trim()).filter(Boolean);
  const entry = entries[memcachedEntriesHandedOut];
  if (entry === undefined) {
    throw new Error(
      `${ENV_VARIABLES.memcached} lists ${entries.length} server(s) and this test process asked for more; add entries to it`,
    );
  }
  memcachedEntriesHandedOut += 1;
  return parseHostPort('memcached', entry);
}
