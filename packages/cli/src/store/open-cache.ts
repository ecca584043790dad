import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCache, type BaseCache } from '@cachette/cache-core';

/**
 * Backends resolve from this package, which depends on every one of them: `npx @cachette/cli`
 * works in a directory that installed none.
 */
const BACKENDS_RESOLVE_FROM = dirname(fileURLToPath(import.meta.url));

/** The cache a URL names. A bad URL or unknown scheme rejects with `InvalidCacheBackendError`. */
export function openCache(url: string): Promise<BaseCache> {
  return createCache(url, { resolveFrom: BACKENDS_RESOLVE_FROM });
}
