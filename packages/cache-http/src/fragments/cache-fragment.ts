import { caches, DEFAULT_CACHE_ALIAS, makeTemplateFragmentKey, type BaseCache } from '@cachette/cache-core';

/** The alias Django's `{% cache %}` prefers when it is configured. */
export const TEMPLATE_FRAGMENTS_ALIAS = 'template_fragments';

export interface CacheFragmentOptions {
  /** A cache alias or instance; default `template_fragments` when configured, else `default`. */
  using?: string | BaseCache;
}

/** The cache a fragment goes to, chosen as Django's `{% cache %}` tag chooses it. */
export function fragmentCache(using?: string | BaseCache): BaseCache {
  if (typeof using === 'object') return using;
  if (using !== undefined) return caches.get(using);
  return caches.get(caches.aliases().includes(TEMPLATE_FRAGMENTS_ALIAS) ? TEMPLATE_FRAGMENTS_ALIAS : DEFAULT_CACHE_ALIAS);
}

/**
 * A template fragment, from the cache or rendered and stored for `timeout` seconds (`null`:
 * forever, `0`: never stored), under Django's `makeTemplateFragmentKey(name, varyOn)`, so a
 * Django site and this one share fragments. Works with any template engine: `render` produces
 * the fragment's text. Concurrent renders of one fragment in a process share one computation.
 */
export async function cacheFragment(
  name: string,
  varyOn: Iterable<unknown> | null | undefined,
  timeout: number | null,
  render: () => string | Promise<string>,
  options: CacheFragmentOptions = {},
): Promise<string> {
  if (timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout))) {
    throw new TypeError(`A fragment's timeout is a number of seconds or null; got ${String(timeout)}`);
  }
  const cache = fragmentCache(options.using);
  return cache.getOrSet(makeTemplateFragmentKey(name, varyOn), render, timeout);
}
