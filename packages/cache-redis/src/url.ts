import { InvalidCacheBackendError } from '@cachette/cache-core';
import type { ConnectionOptions } from './connection';

function integer(name: string, text: string, url: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidCacheBackendError(`Redis URL '${url}': ${name} must be a non-negative integer; got '${text}'`);
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
        if (value !== '2' && value !== '3') throw new InvalidCacheBackendError(`Redis URL '${url}': protocol must be 2 or 3; got '${value}'`);
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
    throw new InvalidCacheBackendError(`'${url}' is not a Redis URL (expected redis://host:port/db, rediss://... or unix:///path.sock)`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  const options: ConnectionOptions = {};
  if (scheme === 'unix' || scheme === 'redis+unix') {
    options.path = decodeURIComponent(parsed.pathname);
  } else if (scheme === 'redis' || scheme === 'rediss') {
    options.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    options.port = parsed.port ? integer('port', parsed.port, url) : 6379;
    const db = parsed.pathname.replace(/^\//, '');
    if (db) options.db = integer('db', db, url);
    if (scheme === 'rediss') options.tls = true;
  } else {
    throw new InvalidCacheBackendError(`'${url}' is not a Redis URL: the scheme must be redis, rediss or unix`);
  }
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  return { ...options, ...queryOptions(parsed.searchParams, url) };
}
