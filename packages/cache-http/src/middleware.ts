import type { Handler, HandlerDecorator } from './decorators';
import { PageCache, type PageCacheOptions } from './page-cache';
import type { CachedPage } from './stored-page';

/** A Fetch `Response` for a page from the cache. */
export function pageResponse(page: CachedPage): Response {
  const headers = new Headers();
  for (let index = 0; index < page.headers.length; index += 2) headers.append(page.headers[index]!, page.headers[index + 1]!);
  return new Response(page.body, { status: page.status, headers });
}

/** Runs a handler behind a page cache, on the Fetch API. */
export async function respondThroughPageCache<A extends unknown[]>(pageCache: PageCache, handler: Handler<A>, request: Request, args: A): Promise<Response> {
  const lookup = await pageCache.lookup(request);
  if (lookup.outcome === 'hit' || lookup.outcome === 'refused') return pageResponse(lookup.page);
  const response = await handler(request, ...args);
  return lookup.outcome === 'miss' ? lookup.miss.respond(response) : response;
}

export type CacheMiddlewareOptions = Omit<PageCacheOptions, 'pageTimeout'>;

/**
 * The per-site cache, Django's `UpdateCacheMiddleware` + `FetchFromCacheMiddleware` in one:
 * `cacheMiddleware(options)(handler)` answers `GET` and `HEAD` from the cache and stores the
 * handler's `200` responses that may be shared, for their `max-age` or `seconds` (600).
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): HandlerDecorator {
  const pageCache = new PageCache({ ...options, pageTimeout: null });
  return (handler) => (request, ...args) => respondThroughPageCache(pageCache, handler, request, args);
}

export type CachePageOptions = Omit<PageCacheOptions, 'pageTimeout' | 'seconds'>;

/** The page cache options of `cachePage(timeout, options)`, for the adapters' versions of it. */
export function cachePageOptions(timeout: number | null, options: CachePageOptions): PageCacheOptions {
  if (timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout))) throw new TypeError(`cachePage's timeout is a number of seconds or null; got ${String(timeout)}`);
  return { ...options, pageTimeout: timeout };
}

/**
 * Django's `cache_page`: caches one handler's pages for `timeout` seconds, whatever their
 * `max-age` says (`null`: their `max-age`, else 600 s).
 */
export function cachePage(timeout: number | null, options: CachePageOptions = {}): HandlerDecorator {
  const pageCache = new PageCache(cachePageOptions(timeout, options));
  return (handler) => (request, ...args) => respondThroughPageCache(pageCache, handler, request, args);
}
