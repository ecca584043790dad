import { parseHttpDate } from './http-date';
import type { RequestLike } from './request-uri';

// RFC 9110 §8.8.3: an optional weak indicator, then a quoted string without quotes inside.
const ETAG = /^(?:W\/)?"[^"]*"$/;

/** The entity tags of an `If-Match`/`If-None-Match` value (malformed ones dropped), or `['*']`. */
export function parseEtags(header: string): string[] {
  if (header.trim() === '*') return ['*'];
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => ETAG.test(tag));
}

/** An entity tag as given when already quoted (`"x"`, `W/"x"`), else a strong one made of it. */
export function quoteEtag(tag: string): string {
  return ETAG.test(tag) ? tag : `"${tag}"`;
}

/** Python's `str.strip('W/')`, which Django's weak comparison applies to both sides. */
function weakForm(tag: string): string {
  return tag.replace(/^[W/]+|[W/]+$/g, '');
}

function ifMatchPasses(etag: string | null, tags: readonly string[]): boolean {
  if (!etag) return false;
  if (tags.length === 1 && tags[0] === '*') return true;
  // A weak tag never matches strongly.
  return !etag.startsWith('W/') && tags.includes(etag);
}

function ifNoneMatchPasses(etag: string | null, tags: readonly string[]): boolean {
  if (!etag) return true;
  if (tags.length === 1 && tags[0] === '*') return false;
  const target = weakForm(etag);
  return !tags.some((tag) => weakForm(tag) === target);
}

function headerDate(request: RequestLike, name: string): number | null {
  const value = request.headers.get(name);
  return value ? parseHttpDate(value) : null;
}

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** What a conditional request gets: `304`, `412`, or `null` when the full response is due. */
export type PreconditionOutcome = 304 | 412 | null;

/**
 * Evaluates the request's preconditions against the resource's validators in RFC 9110 §13.2.2's
 * order, as Django's `get_conditional_response` does (`If-Range` is not supported).
 * `lastModified` is in epoch seconds.
 */
export function evaluatePreconditions(request: RequestLike, etag: string | null, lastModified: number | null): PreconditionOutcome {
  const ifMatch = parseEtags(request.headers.get('if-match') ?? '');
  const ifUnmodifiedSince = headerDate(request, 'if-unmodified-since');
  const ifNoneMatch = parseEtags(request.headers.get('if-none-match') ?? '');
  const ifModifiedSince = headerDate(request, 'if-modified-since');

  if (ifMatch.length > 0 && !ifMatchPasses(etag, ifMatch)) return 412;
  if (ifMatch.length === 0 && ifUnmodifiedSince !== null && !(lastModified && lastModified <= ifUnmodifiedSince)) return 412;
  if (ifNoneMatch.length > 0 && !ifNoneMatchPasses(etag, ifNoneMatch)) return isSafeMethod(request.method) ? 304 : 412;
  if (ifNoneMatch.length === 0 && ifModifiedSince !== null && isSafeMethod(request.method)) {
    if (lastModified && lastModified <= ifModifiedSince) return 304;
  }
  return null;
}

/** The headers a `304 Not Modified` carries over from the full response (RFC 9110 §15.4.5), and its cookies. */
export const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'last-modified', 'vary', 'set-cookie'];

function notModified(response: Response | undefined): Response {
  const headers = new Headers();
  if (response) {
    for (const name of NOT_MODIFIED_HEADERS) {
      if (name === 'set-cookie') for (const cookie of response.headers.getSetCookie()) headers.append(name, cookie);
      else if (response.headers.has(name)) headers.set(name, response.headers.get(name)!);
    }
  }
  return new Response(null, { status: 304, headers });
}

export interface ConditionalResponseOptions {
  /** The resource's entity tag, quoted (`"abc"` or `W/"abc"`). */
  etag?: string | null;
  /** The resource's modification time in epoch seconds. */
  lastModified?: number | null;
  /** The full response; a non-2xx one is returned as it is. */
  response?: Response;
}

/**
 * Django's `get_conditional_response`: a `304 Not Modified` (keeping the validators and caching
 * headers of `response`) or a `412 Precondition Failed` when the request's conditions call for
 * one; otherwise `response`, or `null` when none was given.
 */
export function getConditionalResponse(request: RequestLike, options: ConditionalResponseOptions = {}): Response | null {
  const { response } = options;
  if (response && (response.status < 200 || response.status > 299)) return response;
  const outcome = evaluatePreconditions(request, options.etag ?? null, options.lastModified ?? null);
  if (outcome === 304) return notModified(response);
  if (outcome === 412) return new Response(null, { status: 412 });
  return response ?? null;
}
