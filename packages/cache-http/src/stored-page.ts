import { evaluatePreconditions, NOT_MODIFIED_HEADERS } from './conditional';
import { maxAgeOf } from './headers';
import { parseHttpDate } from './http-date';
import type { RequestLike } from './request-uri';

/** A page ready to send: what a hit (or a refusal) answers. */
export interface CachedPage {
  readonly status: number;
  /** Names and values, alternating, as `ServerResponse.writeHead` takes them. */
  readonly headers: string[];
  /** `null` for `HEAD`, `304` and `412`. */
  readonly body: Buffer | null;
}

/** A page as the cache holds it, read back (see `storedPage`). */
interface StoredParts {
  readonly status: number;
  /** Epoch seconds. */
  readonly storedAt: number;
  /** Names and values, alternating: `['content-type', 'text/html', …]`. */
  readonly headers: string[];
  /** A Latin-1 string of the body's bytes. */
  readonly body: string;
}

// Hop-by-hop headers belong to one connection (RFC 9110 §7.6.1); the length is the stored body's.
const NOT_STORED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'set-cookie', 'age']);
const PAGE_FORMAT = 'cachette:page:1\n';
const MAX_STORED_HEADERS = 1000;

/**
 * A page as the cache holds it: one string, `cachette:page:1`, then the status, the time it was
 * stored, the number of headers and each name and value on a line of its own (header fields never
 * hold a line break), then the body as a Latin-1 string of its bytes. Every serializer stores a
 * string (the JSON one too); V8 keeps it at one byte per byte, and locmem hands the same string
 * back without copying it, so a hit on a hot page is recognised by identity.
 */
export function storedPage(status: number, headers: Iterable<readonly [string, string]>, body: Uint8Array): string {
  let text = '';
  let count = 0;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (NOT_STORED.has(lower)) continue;
    text += `${lower}\n${value}\n`;
    count++;
  }
  const bodyText = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  return `${PAGE_FORMAT}${status}\n${Math.floor(Date.now() / 1000)}\n${count}\n${text}${bodyText}`;
}

/** Whether what came back from the cache is in the page format (anything else is a miss). */
export function isStoredPage(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PAGE_FORMAT);
}

/** The parts of a stored page, or `null` when the text is not a whole one (a corrupt entry is a miss). */
function parseStoredPage(text: string): StoredParts | null {
  let at = PAGE_FORMAT.length;
  const line = (): string | null => {
    const end = text.indexOf('\n', at);
    if (end < 0) return null;
    const value = text.slice(at, end);
    at = end + 1;
    return value;
  };
  const status = Number(line());
  const storedAt = Number(line());
  const count = Number(line());
  if (!Number.isInteger(status) || status < 100 || status > 999 || !Number.isInteger(storedAt) || !Number.isInteger(count) || count < 0 || count > MAX_STORED_HEADERS) {
    return null;
  }
  const headers: string[] = [];
  for (let index = 0; index < count * 2; index++) {
    const item = line();
    if (item === null) return null;
    headers.push(item);
  }
  return { status, storedAt, headers, body: text.slice(at) };
}

/** Alternating names and values as one list of values per (lower-case) name, in order. */
export function groupHeaderList(headers: readonly string[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index]!.toLowerCase();
    const values = grouped.get(name);
    if (values) values.push(headers[index + 1]!);
    else grouped.set(name, [headers[index + 1]!]);
  }
  return grouped;
}

function headerOf(flat: readonly string[], name: string): string | null {
  for (let index = 0; index < flat.length; index += 2) if (flat[index] === name) return flat[index + 1]!;
  return null;
}

function dateOf(flat: readonly string[], name: string): number | null {
  const value = headerOf(flat, name);
  return value === null ? null : parseHttpDate(value);
}

/** A stored page ready to be sent, with what `Age` and conditional requests need parsed once. */
interface PreparedPage {
  /** The stored text it was prepared from. */
  readonly source: string;
  readonly status: number;
  readonly storedAt: number;
  readonly body: Buffer;
  /** The stored headers and `content-length`. */
  readonly headers: string[];
  /** What a `304` keeps of them. */
  readonly notModifiedHeaders: string[];
  readonly maxAge: number | null;
  readonly expires: number | null;
  readonly etag: string | null;
  readonly lastModified: number | null;
}

function prepare(source: string): PreparedPage | null {
  const stored = parseStoredPage(source);
  if (stored === null) return null;
  const body = Buffer.from(stored.body, 'latin1');
  const notModifiedHeaders: string[] = [];
  for (let index = 0; index < stored.headers.length; index += 2) {
    if (NOT_MODIFIED_HEADERS.includes(stored.headers[index]!)) notModifiedHeaders.push(stored.headers[index]!, stored.headers[index + 1]!);
  }
  return {
    source,
    status: stored.status,
    storedAt: stored.storedAt,
    body,
    headers: [...stored.headers, 'content-length', String(body.length)],
    notModifiedHeaders,
    maxAge: maxAgeOf(headerOf(stored.headers, 'cache-control')),
    expires: dateOf(stored.headers, 'expires'),
    etag: headerOf(stored.headers, 'etag'),
    lastModified: dateOf(stored.headers, 'last-modified'),
  };
}

/** What a prepared page holds on to: the stored text and the body's bytes. */
function memoBytes(page: PreparedPage): number {
  return page.source.length + page.body.length;
}

/**
 * Pages prepared for sending, by page key, so a hit on a hot page neither copies its body into a
 * new Buffer nor parses it again. The text read back is compared with the one prepared (by
 * identity from locmem; another process may have stored a new page); the memo holds at most
 * `maxBytes` of pages and starts over when full.
 */
export class PreparedPages {
  private readonly pages = new Map<string, PreparedPage>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** The page prepared from `stored`, or `null` when `stored` is not a whole page. */
  get(key: string, stored: string): PreparedPage | null {
    const known = this.pages.get(key);
    if (known !== undefined && known.source === stored) return known;
    const prepared = prepare(stored);
    if (prepared === null || memoBytes(prepared) * 8 > this.maxBytes) return prepared;
    if (known !== undefined) this.bytes -= memoBytes(known);
    if (this.bytes + memoBytes(prepared) > this.maxBytes) {
      this.pages.clear();
      this.bytes = 0;
    }
    this.pages.set(key, prepared);
    this.bytes += memoBytes(prepared);
    return prepared;
  }
}

/** Django's `Age`: `max-age` less the time left until `Expires`; from the time it was stored when it has neither. */
function ageOf(page: PreparedPage, now: number): number {
  if (page.maxAge !== null && page.expires !== null) return Math.max(0, page.maxAge - (page.expires - now));
  return Math.max(0, now - page.storedAt);
}

function withoutBody(status: number, headers: string[]): CachedPage {
  return { status, headers, body: null };
}

/**
 * The answer a stored page gives this request: the page with its `Age`; or, when `conditional`
 * and the request's preconditions hold against the page's `ETag`/`Last-Modified`, a `304` (or
 * `412`), as Django's `ConditionalGetMiddleware` would make of a cached page.
 */
export function answerFromStore(page: PreparedPage, request: RequestLike, conditional: boolean): CachedPage {
  const age = String(ageOf(page, Math.floor(Date.now() / 1000)));
  if (conditional && (page.etag !== null || page.lastModified !== null)) {
    const outcome = evaluatePreconditions(request, page.etag, page.lastModified);
    if (outcome === 412) return withoutBody(412, ['content-length', '0']);
    if (outcome === 304) return withoutBody(304, [...page.notModifiedHeaders, 'age', age]);
  }
  const headers = [...page.headers, 'age', age];
  return request.method === 'HEAD' ? withoutBody(page.status, headers) : { status: page.status, headers, body: page.body };
}

/** The answer to a request whose host is not allowed (Django's `DisallowedHost`). */
export const BAD_REQUEST_PAGE: CachedPage = Object.freeze({
  status: 400,
  headers: ['content-type', 'text/html; charset=utf-8'],
  body: Buffer.from('<h1>Bad Request (400)</h1>'),
});
