import type { Awaitable, BaseCache } from '@cachette/cache-core';
import { BoundedMemo } from './bounded-memo';
import { patchResponse } from './decorators';
import { readBodyUpTo } from './limited-body';
import { headerListOfVary, isHeaderList, PageKeys, resolveCache, type CacheChoice, type CacheKeyOptions } from './cache-keys';
import { DEFAULT_PAGE_SECONDS, getMaxAge, hasCacheControlDirective, hasVaryHeader, patchResponseHeaders, type HeaderStore } from './headers';
import { absoluteFormAuthority, hostDomain, isAllowedHost, requestHost, type RequestLike } from './request-uri';
import { answerFromStore, BAD_REQUEST_PAGE, isStoredPage, PreparedPages, storedPage, type CachedPage } from './stored-page';

export interface PageCacheOptions extends CacheKeyOptions {
  /** The cache pages go to: an alias of the `caches` registry or a cache instance. Default `'default'`. */
  cache?: CacheChoice;
  /** Separates page caches sharing one cache (Django's `CACHE_MIDDLEWARE_KEY_PREFIX`). Default `''`. */
  keyPrefix?: string;
  /** Seconds a page is kept when its response has no `max-age` (Django's `CACHE_MIDDLEWARE_SECONDS`). Default 600. */
  seconds?: number;
  /** Seconds every page is kept, whatever its `max-age` says (`cachePage`'s timeout). Default: none. */
  pageTimeout?: number | null;
  /** Bodies larger than this pass through uncached, streamed, never buffered whole. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Hosts the page cache answers for (Django's `ALLOWED_HOSTS`: `'example.com'`, `'.example.com'`
   * for the domain and its subdomains, `'*'`), or a function of the domain. Other hosts get a
   * `400 Bad Request` before any key is built. Default: any well-formed host.
   */
  allowedHosts?: readonly string[] | ((domain: string) => boolean);
  /** A hit with `ETag` or `Last-Modified` answers a conditional request with `304`. Default `true`. */
  conditional?: boolean;
  /**
   * Called when the cache fails (a server down, a value too large): the page is rendered or sent
   * regardless. Default: a process warning of type `CachettePageCacheWarning`. Throw from it (on
   * `'lookup'`) to fail the request instead, as Django would.
   */
  onError?: (error: unknown, phase: 'lookup' | 'store') => void;
}

/** What the page cache makes of a request before the handler runs. */
export type PageLookup =
  /** Answered from the cache. */
  | { readonly outcome: 'hit'; readonly page: CachedPage }
  /** The host is malformed, repeated, not allowed, or not the one an absolute-form target names: answer `page` (400) and do not call the handler. */
  | { readonly outcome: 'refused'; readonly page: CachedPage }
  /** Not cached: call the handler, then hand its response to `miss`. */
  | { readonly outcome: 'miss'; readonly miss: PageMiss }
  /** Not a request the page cache serves (a method other than GET and HEAD, or an absolute-form target). */
  | { readonly outcome: 'bypass' };

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function isPromise<T>(value: Awaitable<T>): value is Promise<T> {
  return value instanceof Promise;
}

const BYPASS: PageLookup = Object.freeze({ outcome: 'bypass' });
const REFUSED: PageLookup = Object.freeze({ outcome: 'refused', page: BAD_REQUEST_PAGE });

function defaultErrorReport(error: unknown, phase: 'lookup' | 'store'): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.emitWarning(`The page cache could not ${phase === 'lookup' ? 'be read' : 'store a page'}: ${message}`, { type: 'CachettePageCacheWarning' });
}

/**
 * Django's `UpdateCacheMiddleware` and `FetchFromCacheMiddleware` as one object, on any request
 * and response shape: `lookup` before the handler, `PageMiss.prepare` and `PageMiss.store` after.
 * `cacheMiddleware`, `cachePage` and the framework adapters are built on it.
 */
export class PageCache {
  readonly keyPrefix: string;
  readonly seconds: number;
  readonly pageTimeout: number | null;
  readonly maxBodyBytes: number;
  readonly conditional: boolean;
  private readonly prepared = new PreparedPages();
  /** The verdict on each host seen recently (an `allowedHosts` function is asked once per host). */
  private readonly allowedHosts = new BoundedMemo<boolean>(1000);
  private readonly report: (error: unknown, phase: 'lookup' | 'store') => void;

  constructor(readonly options: PageCacheOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? '';
    this.seconds = options.seconds ?? DEFAULT_PAGE_SECONDS;
    this.pageTimeout = options.pageTimeout ?? null;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.conditional = options.conditional ?? true;
    this.report = options.onError ?? defaultErrorReport;
    for (const [name, value] of [['seconds', this.seconds], ['maxBodyBytes', this.maxBodyBytes]] as const) {
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`Page cache option ${name} must be a number of at least 0; got ${value}`);
    }
  }

  /** The cache in use now (an alias is looked up on every request, so `configureCaches` may come later). */
  get cache(): BaseCache {
    return resolveCache(this.options.cache);
  }

  private hostAllowed(request: RequestLike): boolean {
    const host = requestHost(request, this.options);
    return this.allowedHosts.get(host) ?? this.allowedHosts.remember(host, this.judgeHost(host));
  }

  private judgeHost(host: string): boolean {
    const domain = hostDomain(host);
    if (domain === '') return false;
    const allowed = this.options.allowedHosts;
    if (allowed === undefined) return true;
    return typeof allowed === 'function' ? allowed(domain) : isAllowedHost(domain, allowed);
  }

  /** A forwarded host the keys do not include could make the page link elsewhere: such pages are never stored. */
  private hasUnkeyedForwardedHost(request: RequestLike): boolean {
    if (this.options.useForwardedHost) return false;
    return request.headers.get('x-forwarded-host') !== null || /(^|[;,\s])host=/i.test(request.headers.get('forwarded') ?? '');
  }

  /**
   * Django's `FetchFromCacheMiddleware.process_request`: a cached `GET` answers `HEAD` too. The
   * answer comes without a Promise when the cache answers synchronously (locmem), so a hit on
   * an in-process cache is served in the same tick.
   */
  lookup(request: RequestLike): Awaitable<PageLookup> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return BYPASS;
    if (!this.hostAllowed(request)) return REFUSED;
    const authority = absoluteFormAuthority(request);
    // Keys name the `Host` header; an absolute-form target may name another host to the handler.
    if (authority !== undefined) return authority === requestHost(request).toLowerCase() ? BYPASS : REFUSED;
    // No closure is made on the path of a synchronous cache: a hit allocates little.
    const cache = this.cache;
    const keys = new PageKeys(request, this.keyPrefix, this.options);
    try {
      const headerList = cache.getAwaitable(keys.headerKey);
      const found = isPromise(headerList) ? headerList.then((list) => this.findPage(request, keys, cache, list)) : this.findPage(request, keys, cache, headerList);
      if (!isPromise(found)) return found ?? this.missOf(request, keys, cache);
      return found.then(
        (hit) => hit ?? this.missOf(request, keys, cache),
        (error: unknown) => this.missAfterError(error, request, keys, cache),
      );
    } catch (error) {
      return this.missAfterError(error, request, keys, cache);
    }
  }

  private missOf(request: RequestLike, keys: PageKeys, cache: BaseCache): PageLookup {
    return { outcome: 'miss', miss: new PageMiss(this, request, keys, cache, !this.hasUnkeyedForwardedHost(request)) };
  }

  private missAfterError(error: unknown, request: RequestLike, keys: PageKeys, cache: BaseCache): PageLookup {
    this.report(error, 'lookup');
    return this.missOf(request, keys, cache);
  }

  /** The page stored under the learnt header list for `GET`, then (for a `HEAD`) for `HEAD`. */
  private findPage(request: RequestLike, keys: PageKeys, cache: BaseCache, headerList: unknown): Awaitable<PageLookup | null> {
    if (!isHeaderList(headerList)) return null;
    const getKey = keys.pageKey('GET', headerList);
    const stored = cache.getAwaitable(getKey);
    if (isPromise(stored)) return stored.then((page) => this.hitOrHead(request, keys, cache, headerList, getKey, page));
    return this.hitOrHead(request, keys, cache, headerList, getKey, stored);
  }

  private hitOrHead(request: RequestLike, keys: PageKeys, cache: BaseCache, headerList: string[], getKey: string, stored: unknown): Awaitable<PageLookup | null> {
    if (isStoredPage(stored) || request.method !== 'HEAD') return this.hit(request, getKey, stored);
    const headKey = keys.pageKey('HEAD', headerList);
    const storedHead = cache.getAwaitable(headKey);
    return isPromise(storedHead) ? storedHead.then((page) => this.hit(request, headKey, page)) : this.hit(request, headKey, storedHead);
  }

  private hit(request: RequestLike, key: string, stored: unknown): PageLookup | null {
    const page = isStoredPage(stored) ? this.prepared.get(key, stored) : null;
    return page === null ? null : { outcome: 'hit', page: answerFromStore(page, request, this.conditional) };
  }

  /** @internal */
  reportStoreError(error: unknown): void {
    try {
      this.report(error, 'store');
    } catch {
      // The response is already on its way; an error thrown by the report has nowhere to go.
    }
  }
}

/** The response phase of one request that missed: decide, patch headers, store. */
export class PageMiss {
  constructor(
    private readonly pageCache: PageCache,
    readonly request: RequestLike,
    private readonly keys: PageKeys,
    private readonly cache: BaseCache,
    private readonly storable: boolean,
  ) {}

  /** Whether the response must never reach a shared cache: cookies, `private`, `no-store`, `Vary: *`, credentials. */
  private isPrivate(headers: HeaderStore, setsCookie: boolean): boolean {
    const response = { headers };
    if (setsCookie || hasVaryHeader(response, '*')) return true;
    if (['private', 'no-cache', 'no-store'].some((directive) => hasCacheControlDirective(response, directive))) return true;
    // RFC 9111 §3.5: a response to a request with credentials is shared only when it says so.
    const authorized = this.request.headers.get('authorization') !== null;
    return authorized && !['public', 's-maxage', 'must-revalidate'].some((directive) => hasCacheControlDirective(response, directive));
  }

  /**
   * Django's `UpdateCacheMiddleware.process_response` up to the store: returns the seconds to
   * store the page for, or `null` when it is not stored. Responses the page cache may keep (200
   * and 304) get `Expires` and `max-age`; the others are left as they are.
   */
  prepare(status: number, headers: HeaderStore, setsCookie: boolean): number | null {
    if (!this.storable || (status !== 200 && status !== 304) || this.isPrivate(headers, setsCookie)) return null;
    let timeout = this.pageCache.pageTimeout;
    if (timeout === null) {
      const maxAge = getMaxAge({ headers });
      if (maxAge === 0) return null;
      timeout = maxAge ?? this.pageCache.seconds;
    }
    patchResponseHeaders({ headers }, timeout);
    return timeout > 0 && status === 200 ? timeout : null;
  }

  /** Stores the page and the header list it is keyed by. Never rejects: failures go to `onError`. */
  async store(status: number, headers: Iterable<readonly [string, string]>, body: Uint8Array, timeout: number): Promise<void> {
    const entries = [...headers];
    const vary = entries.filter(([name]) => name.toLowerCase() === 'vary').map(([, value]) => value);
    const headerList = headerListOfVary(vary.length > 0 ? vary.join(', ') : null, this.pageCache.options);
    try {
      await Promise.all([
        this.cache.set(this.keys.headerKey, headerList, timeout),
        this.cache.set(this.keys.pageKey(this.request.method, headerList), storedPage(status, entries, body), timeout),
      ]);
    } catch (error) {
      this.pageCache.reportStoreError(error);
    }
  }

  /**
   * The whole response phase on a Fetch `Response`: patches it, reads its body (up to
   * `maxBodyBytes`; a larger one streams through uncached) and stores it; returns what to send.
   */
  async respond(response: Response): Promise<Response> {
    const setsCookie = response.headers.getSetCookie().length > 0;
    let timeout: number | null = null;
    const patched = patchResponse(response, (target) => {
      timeout = this.prepare(target.status, target.headers, setsCookie);
    });
    if (timeout === null) return patched;
    const body = await readBodyUpTo(patched, this.pageCache.maxBodyBytes);
    if (body instanceof Response) return body;
    await this.store(patched.status, patched.headers, body, timeout);
    const content = this.request.method === 'HEAD' ? null : body;
    return new Response(content, { status: patched.status, statusText: patched.statusText, headers: patched.headers });
  }
}
