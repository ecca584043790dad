import type { NextFunction, Request as ExpressRequest, RequestHandler, Response as ExpressResponse } from 'express';
import { PageCache, cachePageOptions, type CacheMiddlewareOptions, type CachePageOptions, type Handler } from '@cachette/cache-http';
import { sendResponse, servePage, toRequest } from '@cachette/cache-http/node';

function pageCacheMiddleware(pageCache: PageCache): RequestHandler {
  return (request, response, next) => {
    try {
      // originalUrl: the target as received, before a mounted router rewrote `url`.
      servePage(pageCache, request, response, () => next(), request.originalUrl)?.catch(next);
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The per-site cache as Express middleware: `app.use(cacheMiddleware())` before the routes. Hits
 * are answered without reaching them; the routes' responses are stored as they are sent.
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): RequestHandler {
  return pageCacheMiddleware(new PageCache({ ...options, pageTimeout: null }));
}

/** `cachePage` as route middleware: `app.get('/article/:id', cachePage(60), handler)`. */
export function cachePage(timeout: number | null, options: CachePageOptions = {}): RequestHandler {
  return pageCacheMiddleware(new PageCache(cachePageOptions(timeout, options)));
}

/**
 * A Fetch handler as an Express route handler (so `cachePage`, `condition`, `cacheControl`, …
 * of `@cachette/cache-http` wrap it). The handler also gets Express's request and response. The
 * request body is the raw stream: mount body parsers elsewhere, or read it from the Fetch request.
 */
export function toExpressHandler(handler: Handler<[ExpressRequest, ExpressResponse]>): RequestHandler {
  return (request: ExpressRequest, response: ExpressResponse, next: NextFunction) => {
    Promise.resolve()
      .then(() => handler(toRequest(request, request.originalUrl), request, response))
      .then((fetchResponse) => sendResponse(response, fetchResponse))
      .catch(next);
  };
}
