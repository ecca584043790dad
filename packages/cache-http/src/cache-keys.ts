import { createHash } from 'node:crypto';
import { caches, type BaseCache } from '@cachette/cache-core';
import { DEFAULT_PAGE_SECONDS, splitVary, type ResponseLike } from './headers';
import { BoundedMemo } from './bounded-memo';
import { absoluteUri, rawRequestOf, type RequestLike, type RequestUriOptions } from './request-uri';

/** How page keys are built beyond the URL, as Django's i18n and time zone settings. */
export interface CacheKeyOptions extends RequestUriOptions {
  /**
   * Django's `USE_I18N`: the request's language, appended to every key (`….en`). Since the key
   * then holds the language, `Accept-Language` in `Vary` no longer changes it.
   */
  language?: (request: RequestLike) => string;
  /** Django's `USE_TZ`: the request's current time zone name, appended after the language. */
  timeZone?: (request: RequestLike) => string;
}

/** A cache given by alias (looked up in the `caches` registry on each use) or as an instance. */
export type CacheChoice = BaseCache | string;

const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
// Django hashes this for a header named in Vary that the request does not send, so an absent
// header and an empty one never share a key (RFC 9111 §4.1).
const ABSENT_HEADER = '-,';
// WSGI servers put these two in CONTENT_TYPE and CONTENT_LENGTH, never in HTTP_*: Django finds
// them absent when a response varies on them.
const NOT_IN_HTTP_META = new Set(['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']);

export function resolveCache(cache: CacheChoice | undefined): BaseCache {
  return typeof cache === 'object' ? cache : caches.get(cache);
}

function md5(text: string, encoding: 'latin1' | 'utf8'): string {
  return createHash('md5').update(text, encoding).digest('hex');
}

/** MD5 of URLs and header values seen recently: hot pages skip the digest. */
const digests = new BoundedMemo<string>(10_000);

function digest(text: string): string {
  return digests.get(text) ?? digests.remember(text, md5(text, 'utf8'));
}

// RFC 9110 §5.1: a name `Headers.get` accepts; anything else in Vary names no request header.
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A request header's `META` name (`Accept-Encoding` → `HTTP_ACCEPT_ENCODING`), as a WSGI server makes it. */
function metaName(header: string): string {
  return `HTTP_${header.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * The value of the request header a WSGI `META` name stands for, or `null`. From the raw lines
 * when the adapter kept them: a WSGI server joins repeated lines with `,`.
 */
function metaHeaderValue(request: RequestLike, name: string): string | null {
  if (NOT_IN_HTTP_META.has(name)) return null;
  const raw = rawRequestOf(request)?.headers;
  if (raw === undefined) {
    const header = name.slice('HTTP_'.length).replace(/_/g, '-');
    return FIELD_NAME.test(header) ? request.headers.get(header) : null;
  }
  let value: string | null = null;
  for (let index = 0; index < raw.length; index += 2) {
    if (metaName(raw[index]!) === name) value = value === null ? raw[index + 1]! : `${value},${raw[index + 1]}`;
  }
  return value;
}

/** MD5 of the varying header values back to back (absent ones as `-,`), as Django hashes them. */
function headerValuesHash(request: RequestLike, headerList: readonly string[]): string {
  if (headerList.length === 0) return EMPTY_MD5;
  let values = '';
  for (const name of headerList) values += metaHeaderValue(request, name) ?? ABSENT_HEADER;
  return digest(values);
}

/**
 * The `META` names of the headers a response varies on, sorted, as Django's `learn_cache_key`
 * lists them (`Vary: Accept-Encoding, Cookie` → `['HTTP_ACCEPT_ENCODING', 'HTTP_COOKIE']`).
 */
export function varyHeaderList(response: ResponseLike, options: CacheKeyOptions = {}): string[] {
  return headerListOfVary(response.headers.get('Vary'), options);
}

/** `varyHeaderList` of a `Vary` value. */
export function headerListOfVary(vary: string | null, options: CacheKeyOptions = {}): string[] {
  const list: string[] = [];
  for (const header of splitVary(vary)) {
    const name = metaName(header);
    if (name === 'HTTP_ACCEPT_LANGUAGE' && options.language) continue;
    list.push(name);
  }
  return list.sort();
}

/** What a header key holds: the `META` names of a page's varying headers. */
export function isHeaderList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The keys of one URL (under one prefix and suffix), made once and shared by its requests. */
class UrlKeys {
  readonly headerKey: string;
  private readonly pageKeys = new Map<string, string>();

  constructor(
    private readonly keyPrefix: string,
    private readonly urlHash: string,
    private readonly suffix: string,
  ) {
    this.headerKey = `views.decorators.cache.cache_header.${keyPrefix}.${urlHash}${suffix}`;
  }

  pageKey(method: string, valuesHash: string): string {
    let key = this.pageKeys.get(valuesHash + method);
    if (key === undefined) {
      key = `views.decorators.cache.cache_page.${this.keyPrefix}.${method}.${this.urlHash}.${valuesHash}${this.suffix}`;
      // A handful per URL (GET and HEAD, per set of varying values) until the memo starts over.
      if (this.pageKeys.size < 64) this.pageKeys.set(valuesHash + method, key);
    }
    return key;
  }
}

const urlKeys = new BoundedMemo<UrlKeys>(10_000);

/**
 * The keys of one request's page: Django's `cache_header` key (where the header list is kept)
 * and its `cache_page` keys. The strings are made once per URL and reused, so a cache lookup of a
 * hot page hashes no new string.
 */
export class PageKeys {
  private readonly url: UrlKeys;

  constructor(
    private readonly request: RequestLike,
    keyPrefix: string,
    options: CacheKeyOptions = {},
  ) {
    const uri = absoluteUri(request, options);
    let suffix = '';
    if (options.language) suffix += `.${options.language(request)}`;
    if (options.timeZone) suffix += `.${options.timeZone(request)}`;
    // The URI is ASCII after escaping; NUL separates the parts of the memo's key.
    const memoKey = `${keyPrefix}\0${suffix}\0${uri}`;
    this.url = urlKeys.get(memoKey) ?? urlKeys.remember(memoKey, new UrlKeys(keyPrefix, md5(uri, 'latin1'), suffix));
  }

  get headerKey(): string {
    return this.url.headerKey;
  }

  pageKey(method: string, headerList: readonly string[]): string {
    return this.url.pageKey(method, headerValuesHash(this.request, headerList));
  }

  /** The stored header list, or `null` when none is stored (or what is stored is not one). */
  async headerList(cache: BaseCache): Promise<string[] | null> {
    const stored = await cache.get(this.headerKey);
    return isHeaderList(stored) ? stored : null;
  }
}

/**
 * Django's `learn_cache_key`: stores the list of headers the response varies on under the URL's
 * header key (for `timeout` seconds) and returns the key the page itself goes under.
 */
export async function learnCacheKey(
  request: RequestLike,
  response: ResponseLike,
  timeout: number = DEFAULT_PAGE_SECONDS,
  keyPrefix = '',
  cache?: CacheChoice,
  options: CacheKeyOptions = {},
): Promise<string> {
  const keys = new PageKeys(request, keyPrefix, options);
  const headerList = varyHeaderList(response, options);
  await resolveCache(cache).set(keys.headerKey, headerList, timeout);
  return keys.pageKey(request.method, headerList);
}

/**
 * Django's `get_cache_key`: the key a page for this request would be stored under, from the
 * header list learnt earlier; `null` when nothing was learnt for the URL.
 */
export async function getCacheKey(
  request: RequestLike,
  keyPrefix = '',
  method = 'GET',
  cache?: CacheChoice,
  options: CacheKeyOptions = {},
): Promise<string | null> {
  const keys = new PageKeys(request, keyPrefix, options);
  const headerList = await keys.headerList(resolveCache(cache));
  return headerList === null ? null : keys.pageKey(method, headerList);
}
