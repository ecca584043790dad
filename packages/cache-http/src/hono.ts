import type { Context, Handler as HonoHandler, MiddlewareHandler } from 'hono';
import { PageCache, cachePageOptions, pageResponse, rememberRawRequest, type CacheMiddlewareOptions, type CachePageOptions, type Handler } from '@cachette/cache-http';

/** Under `@hono/node-server`, the Node request is in the bindings: its target and header lines are the ones received. */
function rememberNodeTarget(context: Context): void {
  const incoming = (context.env as { incoming?: { url?: string; rawHeaders?: string[] } } | undefined)?.incoming;
  if (typeof incoming?.url === 'string') rememberRawRequest(context.req.raw, { target: incoming.url, headers: incoming.rawHeaders });
}

function pageCacheMiddleware(pageCache: PageCache): MiddlewareHandler {
  return async (context, next) => {
    rememberNodeTarget(context);
    const lookup = await pageCache.lookup(context.req.raw);
    if (lookup.outcome === 'hit' || lookup.outcome === 'refused') return pageResponse(lookup.page);
    await next();
    if (lookup.outcome !== 'miss') return;
    const response = await lookup.miss.respond(context.res);
    // Assigning over a response merges the old one's headers into the new: clear it first, so
    // the page cache's own headers (Expires, max-age) are the ones sent.
    context.res = undefined;
    context.res = response;
  };
}

/** The per-site cache as Hono middleware: `app.use(cacheMiddleware(options))` before the routes. */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): MiddlewareHandler {
  return pageCacheMiddleware(new PageCache({ ...options, pageTimeout: null }));
}

/** `cachePage` as route middleware: `app.get('/article/:id', cachePage(60), (c) => …)`. */
export function cachePage(timeout: number | null, options: CachePageOptions = {}): MiddlewareHandler {
  return pageCacheMiddleware(new PageCache(cachePageOptions(timeout, options)));
}

/** A Fetch handler (wrapped by `condition`, `cacheControl`, …) as a Hono handler; it also gets the context. */
export function toHonoHandler(handler: Handler<[Context]>): HonoHandler {
  return (context) => handler(context.req.raw, context);
}
