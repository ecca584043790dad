import { InvalidCacheBackendError, decodeUrlComponent, redactUrlPassword } from '@cachette/cache-core';
import { nodeAddress } from './cluster/slot-map';
import type { ConnectionOptions } from './connection';

function integer(name: string, text: string, url: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidCacheBackendError(`Redis URL '${redactUrlPassword(url)}': ${name} must be a non-negative integer; got '${text}'`);
  return value;
}

/** Options the query string may carry, besides `db`, `password` and `username`. */
function queryOptions(query: URLSearchParams, url: string): ConnectionOptions {
  const options: ConnectionOptions = {};
  for (const [name, value] of query) {
    switch (name) {
      case 'db':
        options.db = integer('db', value, url);
        break;
      case 'password':
        options.password = value;
        break;
      case 'username':
        options.username = value;
        break;
      case 'protocol':
        if (value !== '2' && value !== '3') throw new InvalidCacheBackendError(`Redis URL '${redactUrlPassword(url)}': protocol must be 2 or 3; got '${value}'`);
        options.protocol = Number(value) as 2 | 3;
        break;
      case 'client_name':
      case 'clientName':
        options.clientName = value;
        break;
      default:
      // Cache options (timeout, key_prefix, ...) share the query string; they are not connection options.
    }
  }
  return options;
}

/**
 * Reads `redis://[user[:password]@]host[:port][/db][?db=&protocol=3&client_name=]`,
 * `rediss://...` (TLS) and `unix:///path/to.sock?db=1&password=...`. A bare `host:port` is accepted too.
 */
export function parseRedisUrl(url: string): ConnectionOptions {
  if (!url.includes('://')) url = `redis://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}' is not a Redis URL (expected redis://host:port/db, rediss://... or unix:///path.sock)`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  const options: ConnectionOptions = {};
  if (scheme === 'unix' || scheme === 'redis+unix') {
    options.path = decodeUrlComponent(parsed.pathname, url);
  } else if (scheme === 'redis' || scheme === 'rediss') {
    options.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    options.port = parsed.port ? integer('port', parsed.port, url) : 6379;
    const db = parsed.pathname.replace(/^\//, '');
    if (db) options.db = integer('db', db, url);
    if (scheme === 'rediss') options.tls = true;
  } else {
    throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}' is not a Redis URL: the scheme must be redis, rediss or unix`);
  }
  if (parsed.username) options.username = decodeUrlComponent(parsed.username, url);
  if (parsed.password) options.password = decodeUrlComponent(parsed.password, url);
  return { ...options, ...queryOptions(parsed.searchParams, url) };
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/i;

/** Whether a location names a Redis Cluster (`redis+cluster://…`, `rediss+cluster://…`). */
export function isClusterUrl(location: string): boolean {
  return /^rediss?\+cluster:\/\//i.test(location.trim());
}

/** A cluster location as a `redis+cluster://` URL: `redis://h:1`, `rediss://h:1` and `h:1` each name one node. */
export function asClusterUrl(location: string): string {
  if (isClusterUrl(location)) return location;
  return /^rediss?:\/\//i.test(location) ? location.replace(/^(rediss?):/i, '$1+cluster:') : `redis+cluster://${location}`;
}

/**
 * Reads `redis+cluster://[user[:password]@]host:port[,host:port…][?protocol=3&…]` (and
 * `rediss+cluster://` for TLS): the seed nodes, and the connection options every node shares.
 */
export function parseClusterUrl(url: string): { seeds: string[]; options: ConnectionOptions } {
  const match = CLUSTER_URL.exec(url.trim());
  if (!match) throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}' is not a Redis Cluster URL (expected redis+cluster://host:port,host:port)`);
  const [, scheme, authority = '', path = '', query = ''] = match;
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? '' : authority.slice(0, at + 1);
  const hosts = authority.slice(at + 1).split(',').map((host) => host.trim()).filter((host) => host !== '');
  if (hosts.length === 0) throw new InvalidCacheBackendError(`Redis Cluster URL '${redactUrlPassword(url)}' names no node`);
  const perNode = hosts.map((host) => parseRedisUrl(`${scheme!.toLowerCase()}://${credentials}${host}${path}${query}`));
  const { host: _host, port: _port, ...shared } = perNode[0]!;
  return { seeds: perNode.map((options) => nodeAddress(options.host!, options.port!)), options: shared };
}
