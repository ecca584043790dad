import { httpDate } from './http-date';

/** The part of `Headers` these helpers use; a Fetch `Headers` object is one. */
export interface HeaderStore {
  get(name: string): string | null;
  set(name: string, value: string): void;
  has(name: string): boolean;
}

/** Anything with response headers: a Fetch `Response`, or an adapter's view of a framework's response. */
export interface ResponseLike {
  readonly headers: HeaderStore;
}

/** The value of a `Cache-Control` directive: `true` writes it bare; `false`, `null` and `undefined` leave it out. */
export type DirectiveValue = boolean | number | string | null | undefined;

/**
 * `Cache-Control` directives by their camelCase names (`maxAge` is `max-age`); any other directive
 * may be given by its own name (`'stale-if-error'`) or in snake case, as Django's keyword arguments.
 */
export interface CacheControlDirectives {
  public?: boolean;
  /** `true`, or a field list (`private="Set-Cookie"`). */
  private?: boolean | string;
  maxAge?: number;
  sMaxage?: number;
  /** `true`, or a field name; field names given over several calls are all kept. */
  noCache?: boolean | string;
  noStore?: boolean;
  mustRevalidate?: boolean;
  proxyRevalidate?: boolean;
  mustUnderstand?: boolean;
  noTransform?: boolean;
  immutable?: boolean;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  [directive: string]: DirectiveValue;
}

/** Django's default for the page cache's timeout (`CACHE_MIDDLEWARE_SECONDS`). */
export const DEFAULT_PAGE_SECONDS = 600;

// Django's cc_delim_re: list members split on commas with any surrounding whitespace.
const LIST_DELIMITER = /\s*,\s*/;
const INTEGER = /^\s*[+-]?\d+\s*$/;
const NO_CACHE = 'no-cache';

/**
 * The members of `Vary` exactly as Django splits them: empty members kept (`Pony,,Cookie` has
 * three), since they change Django's keys (an empty name is a header no request has).
 */
export function splitVary(value: string | null): string[] {
  return value === null ? [] : value.split(LIST_DELIMITER);
}

/** The members of a comma-separated header (`Cache-Control`), empty ones dropped. */
export function splitHeaderList(value: string | null): string[] {
  if (!value) return [];
  return value
    .trim()
    .split(LIST_DELIMITER)
    .filter((member) => member !== '');
}

/** `maxAge` → `max-age`, `no_cache` → `no-cache`, `s-maxage` unchanged. */
function directiveName(option: string): string {
  return option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`).replace(/_/g, '-');
}

type ParsedValue = string | true;

/** Directives in header order; `no-cache` collects its field names (or `true`) into a set. */
type Directives = Map<string, ParsedValue | Set<ParsedValue>>;

function parseDirective(field: string): [string, ParsedValue] {
  const equals = field.indexOf('=');
  return equals < 0 ? [field.toLowerCase(), true] : [field.slice(0, equals).toLowerCase(), field.slice(equals + 1)];
}

function addDirective(directives: Directives, name: string, value: ParsedValue): void {
  if (name !== NO_CACHE) {
    directives.set(name, value);
    return;
  }
  const values = directives.get(NO_CACHE);
  if (values instanceof Set) values.add(value);
  else directives.set(NO_CACHE, new Set([value]));
}

function parseCacheControl(header: string | null): Directives {
  const directives: Directives = new Map();
  for (const field of splitHeaderList(header)) addDirective(directives, ...parseDirective(field));
  return directives;
}

function serializeDirective(name: string, value: ParsedValue): string {
  return value === true ? name : `${name}=${value}`;
}

function serializeCacheControl(directives: Directives): string {
  const fields: string[] = [];
  for (const [name, value] of directives) {
    if (!(value instanceof Set)) fields.push(serializeDirective(name, value));
    else if (value.has(true)) fields.push(name);
    else for (const field of value) fields.push(serializeDirective(name, field));
  }
  return fields.join(', ');
}

/** Directive names and values to apply: left-out values dropped, numbers as text. */
function requestedDirectives(options: CacheControlDirectives): Map<string, ParsedValue> {
  const requested = new Map<string, ParsedValue>();
  for (const [option, value] of Object.entries(options)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`Cache-Control ${option} must be a finite number; got ${value}`);
    requested.set(directiveName(option), value === true ? true : String(value));
  }
  return requested;
}

/**
 * Adds directives to a response's `Cache-Control`, merging as Django's `patch_cache_control` does:
 * directives already there keep their place, new ones are appended; of two `max-age` values the
 * smaller wins; `public` replaces `private` and the reverse; `no-cache` field names accumulate and
 * a bare `no-cache` absorbs them. Returns the response.
 */
export function patchCacheControl<R extends ResponseLike>(response: R, options: CacheControlDirectives): R {
  const directives = parseCacheControl(response.headers.get('Cache-Control'));
  const requested = requestedDirectives(options);

  const existingMaxAge = directives.get('max-age');
  const requestedMaxAge = requested.get('max-age');
  if (typeof existingMaxAge === 'string' && INTEGER.test(existingMaxAge) && typeof requestedMaxAge === 'string') {
    requested.set('max-age', String(Math.min(Number(existingMaxAge), Number(requestedMaxAge))));
  }
  if (directives.has('private') && requested.has('public')) directives.delete('private');
  else if (directives.has('public') && requested.has('private')) directives.delete('public');

  for (const [name, value] of requested) addDirective(directives, name, value);
  response.headers.set('Cache-Control', serializeCacheControl(directives));
  return response;
}

/** Whether `Cache-Control` holds a directive (`'private'`, `'no-store'`, …), with or without a value. */
export function hasCacheControlDirective(response: ResponseLike, directive: string): boolean {
  return parseCacheControl(response.headers.get('Cache-Control')).has(directive);
}

/** The `max-age` of a `Cache-Control` value in seconds; `null` when there is none or it is not an integer. */
export function maxAgeOf(cacheControl: string | null): number | null {
  const value = parseCacheControl(cacheControl).get('max-age');
  return typeof value === 'string' && INTEGER.test(value) ? Number(value) : null;
}

/** The `max-age` of the response's `Cache-Control` in seconds; `null` when there is none or it is not an integer. */
export function getMaxAge(response: ResponseLike): number | null {
  return maxAgeOf(response.headers.get('Cache-Control'));
}

/**
 * Django's `patch_response_headers`: `Expires` now + `timeout` (unless the response has one) and
 * `max-age=timeout` through `patchCacheControl` (so a smaller existing `max-age` stays). A negative
 * timeout counts as 0.
 */
export function patchResponseHeaders<R extends ResponseLike>(response: R, timeout: number = DEFAULT_PAGE_SECONDS): R {
  const seconds = Math.max(0, timeout);
  if (!response.headers.has('Expires')) response.headers.set('Expires', httpDate(Date.now() / 1000 + seconds));
  return patchCacheControl(response, { maxAge: seconds });
}

/**
 * Marks a response as never to be cached: `Expires` now (unless set) and
 * `Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private`.
 */
export function addNeverCacheHeaders<R extends ResponseLike>(response: R): R {
  patchResponseHeaders(response, -1);
  return patchCacheControl(response, { noCache: true, noStore: true, mustRevalidate: true, private: true });
}

/**
 * Adds header names to `Vary`, keeping the existing ones and their order; names already there
 * (compared case-insensitively) are not repeated, and `*` replaces the whole list.
 */
export function patchVaryHeaders<R extends ResponseLike>(response: R, names: Iterable<string>): R {
  const existing = splitVary(response.headers.get('Vary'));
  const present = new Set(existing.map((name) => name.toLowerCase()));
  const vary = [...existing];
  for (const name of names) if (!present.has(name.toLowerCase())) vary.push(name);
  response.headers.set('Vary', vary.includes('*') ? '*' : vary.join(', '));
  return response;
}

/** Whether `Vary` names a header (case-insensitively). */
export function hasVaryHeader(response: ResponseLike, name: string): boolean {
  const wanted = name.trim().toLowerCase();
  return splitVary(response.headers.get('Vary')).some((member) => member.trim().toLowerCase() === wanted);
}
