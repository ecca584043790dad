import { InvalidCacheBackendError } from './errors';
import type { CacheParams } from './base-cache';
import type { BackendReference } from './backend-loader';

/** A cache URL taken apart: `scheme://body?query`. */
export interface ParsedCacheUrl {
  readonly url: string;
  readonly scheme: string;
  /** Everything between `scheme://` and `?`, not decoded (it may hold several hosts). */
  readonly body: string;
  /** All query parameters, the common ones (`timeout`, `key_prefix`, `version`) included. */
  readonly query: URLSearchParams;
}

const URL_SHAPE = /^([a-z][a-z0-9+.-]*):(?:\/\/)?([^?#]*)(?:\?([^#]*))?/i;

const schemes = new Map<string, BackendReference>([
  ['locmem', '@cachette/cache-locmem'],
  ['file', '@cachette/cache-file'],
  ['sqlite', '@cachette/cache-sql'],
  ['postgres', '@cachette/cache-sql'],
  ['postgresql', '@cachette/cache-sql'],
  ['mysql', '@cachette/cache-sql'],
  ['mariadb', '@cachette/cache-sql'],
  ['memcached', '@cachette/cache-memcached'],
  ['redis', '@cachette/cache-redis'],
  ['rediss', '@cachette/cache-redis'],
  ['redis+cluster', '@cachette/cache-redis'],
  ['rediss+cluster', '@cachette/cache-redis'],
  ['unix', '@cachette/cache-redis'],
]);

/** Maps a URL scheme to a backend (a class or a module specifier), for your own backends. */
export function registerCacheScheme(scheme: string, backend: BackendReference): void {
  schemes.set(scheme.toLowerCase(), backend);
}

export function backendForScheme(scheme: string): BackendReference | undefined {
  return schemes.get(scheme.toLowerCase());
}

/** The URL with its password (in the user part, or a `password=` query parameter) replaced by `***`, safe to print. */
export function redactUrlPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * `decodeURIComponent` for a part of the cache URL `url`: a malformed escape (`%zz`, `%E0` without
 * the rest of its UTF-8 sequence) is an InvalidCacheBackendError naming the URL, not a URIError.
 */
export function decodeUrlComponent(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidCacheBackendError(`'${redactUrlPassword(url)}' holds a malformed %-escape: write '%' as '%25', and other characters as the %-escapes of their UTF-8 bytes`);
  }
}

export function parseCacheUrl(url: string): ParsedCacheUrl {
  const match = URL_SHAPE.exec(url);
  if (!match) throw new InvalidCacheBackendError(`'${url}' is not a cache URL (expected scheme://location?options)`);
  return { url, scheme: match[1]!.toLowerCase(), body: match[2] ?? '', query: new URLSearchParams(match[3] ?? '') };
}

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Query values are text; numbers and booleans are what options usually want. */
function optionValue(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  return text;
}

/**
 * The parameters every backend understands, from a URL: `timeout` (seconds or `none`),
 * `key_prefix`, `version`, `stats`; every other query parameter becomes an option, its name camel-cased
 * (`max_entries` → `maxEntries`). The location defaults to the decoded body (`locmem://name` →
 * `name`, `file:///var/tmp/x` → `/var/tmp/x`); a backend refines it with a static `paramsFromUrl`.
 */
export function commonParamsFromUrl(parsed: ParsedCacheUrl): CacheParams {
  const params: CacheParams = { location: decodeUrlComponent(parsed.body, parsed.url) };
  const options: Record<string, unknown> = {};
  for (const [name, text] of parsed.query) {
    const key = camelCase(name);
    if (key === 'timeout') params.timeout = text === 'none' || text === 'null' ? null : Number(text);
    else if (key === 'keyPrefix') params.keyPrefix = text;
    else if (key === 'version') params.version = Number(text);
    else if (key === 'stats') params.stats = optionValue(text) as boolean;
    else options[key] = optionValue(text);
  }
  if (Object.keys(options).length > 0) params.options = options;
  return params;
}
