import { getConditionalResponse, quoteEtag } from './conditional';
import { addNeverCacheHeaders, patchCacheControl, patchVaryHeaders, type CacheControlDirectives } from './headers';
import { httpDate } from './http-date';

/** A request handler on the Fetch API; `args` are whatever the framework passes after the request. */
export type Handler<A extends unknown[] = unknown[]> = (request: Request, ...args: A) => Response | Promise<Response>;

/** Wraps a handler, keeping its parameters. */
export type HandlerDecorator = <A extends unknown[]>(handler: Handler<A>) => Handler<A>;

function checkRequest(decorator: string, request: unknown): void {
  const candidate = request as Partial<Request> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.method !== 'string' || typeof candidate.headers?.get !== 'function') {
    throw new TypeError(`${decorator} didn't receive a Request as the handler's first argument; got ${candidate === null ? 'null' : typeof candidate}`);
  }
}

/**
 * Applies `patch` to the response's headers; a response whose headers are immutable (from
 * `fetch()` or `Response.redirect()`) is copied first.
 */
export function patchResponse(response: Response, patch: (response: Response) => void): Response {
  try {
    patch(response);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const copy = new Response(response.body, response);
    patch(copy);
    return copy;
  }
}

function afterResponse(decorator: string, patch: (response: Response, request: Request) => void): HandlerDecorator {
  return <A extends unknown[]>(handler: Handler<A>): Handler<A> =>
    async (request: Request, ...args: A) => {
      checkRequest(decorator, request);
      const response = await handler(request, ...args);
      return patchResponse(response, (target) => patch(target, request));
    };
}

/** Django's `cache_control`: adds directives to the handler's `Cache-Control` (see `patchCacheControl`). */
export function cacheControl(directives: CacheControlDirectives): HandlerDecorator {
  return afterResponse('cacheControl', (response) => patchCacheControl(response, directives));
}

/** Django's `never_cache`: `Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private` and `Expires`. */
export function neverCache<A extends unknown[]>(handler: Handler<A>): Handler<A> {
  return afterResponse('neverCache', (response) => addNeverCacheHeaders(response))(handler);
}

/** Django's `vary_on_headers`: adds the names to the handler's `Vary` (case-insensitively). */
export function varyOnHeaders(...names: string[]): HandlerDecorator {
  return afterResponse('varyOnHeaders', (response) => patchVaryHeaders(response, names));
}

/** Django's `vary_on_cookie`: `Vary: Cookie`, so pages cached for one set of cookies never reach another. */
export function varyOnCookie<A extends unknown[]>(handler: Handler<A>): Handler<A> {
  return varyOnHeaders('Cookie')(handler);
}

type Validator<A extends unknown[], T> = (request: Request, ...args: A) => T | Promise<T>;

export interface ConditionOptions<A extends unknown[]> {
  /** The resource's entity tag, quoted or not (an unquoted one becomes strong); `null`: the resource has none. */
  etag?: Validator<A, string | null | undefined>;
  /** The resource's modification time, a `Date` or epoch milliseconds; `null`: unknown. */
  lastModified?: Validator<A, Date | number | null | undefined>;
}

function epochSeconds(time: Date | number | null | undefined): number | null {
  if (time === null || time === undefined) return null;
  const milliseconds = typeof time === 'number' ? time : time.getTime();
  if (!Number.isFinite(milliseconds)) throw new TypeError(`condition: lastModified returned an invalid time (${String(time)})`);
  return Math.floor(milliseconds / 1000) || null;
}

/**
 * Django's `condition`: computes the validators before the handler and answers `304 Not Modified`
 * or `412 Precondition Failed` without calling it when the request's conditions say so; on `GET`
 * and `HEAD`, sets `ETag` and `Last-Modified` on the response unless the handler did.
 */
export function condition<A extends unknown[]>(options: ConditionOptions<A>): (handler: Handler<A>) => Handler<A> {
  return (handler) =>
    async (request: Request, ...args: A) => {
      checkRequest('condition', request);
      const tag = options.etag ? await options.etag(request, ...args) : null;
      const etag = tag === null || tag === undefined ? null : quoteEtag(tag);
      const lastModified = epochSeconds(options.lastModified ? await options.lastModified(request, ...args) : null);
      const response = getConditionalResponse(request, { etag, lastModified }) ?? (await handler(request, ...args));
      if (request.method !== 'GET' && request.method !== 'HEAD') return response;
      return patchResponse(response, (target) => {
        if (lastModified && !target.headers.has('Last-Modified')) target.headers.set('Last-Modified', httpDate(lastModified));
        if (etag && !target.headers.has('ETag')) target.headers.set('ETag', etag);
      });
    };
}

/** `condition` with an entity tag only. */
export function etag<A extends unknown[]>(compute: Validator<A, string | null | undefined>): (handler: Handler<A>) => Handler<A> {
  return condition({ etag: compute });
}

/** `condition` with a modification time only. */
export function lastModified<A extends unknown[]>(compute: Validator<A, Date | number | null | undefined>): (handler: Handler<A>) => Handler<A> {
  return condition({ lastModified: compute });
}
