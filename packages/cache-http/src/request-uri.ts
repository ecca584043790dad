/**
 * What page caching reads of a request. A Fetch `Request` is one; adapters pass lighter views of
 * their framework's request on the hit path.
 */
export interface RequestLike {
  readonly method: string;
  /** The absolute URL (`http://host/path?query`). */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** The request as it arrived, when an adapter's view carries it (see `rememberRawRequest`). */
  readonly raw?: RawRequest;
}

/** How the request's host and scheme are read, as Django's settings of the same names. */
export interface RequestUriOptions {
  /** Take the host from `X-Forwarded-Host` when present (Django's `USE_X_FORWARDED_HOST`). Default `false`. */
  useForwardedHost?: boolean;
  /** `[header, value]`: the request is HTTPS when the header's first value is `value` (Django's `SECURE_PROXY_SSL_HEADER`). */
  secureProxyHeader?: readonly [string, string];
}

/** A request as it arrived, before the Fetch API normalised it. */
export interface RawRequest {
  /** The request target (`/a%20b?q=1`). */
  target: string;
  /** Header names and values alternating, every line as received (Node's `rawHeaders`). */
  headers?: readonly string[];
  /** Whether it came over TLS; else the URL's scheme says. */
  secure?: boolean;
}

const rawRequests = new WeakMap<object, RawRequest>();

/**
 * Records a request as it arrived, so keys are built from the bytes Django would see: the target
 * before the URL parser normalised it, and repeated header lines, which a WSGI server joins with
 * `,` where `Headers` joins them with `, `. Adapters call this for the Fetch `Request`s they
 * build; a view of their own can carry it as `raw` instead.
 */
export function rememberRawRequest(request: RequestLike, raw: RawRequest): void {
  rawRequests.set(request, raw);
}

/** The raw request an adapter's view carries or an adapter recorded, if any. */
export function rawRequestOf(request: RequestLike): RawRequest | undefined {
  return request.raw ?? rawRequests.get(request);
}

function requestTarget(request: RequestLike): string {
  const remembered = rawRequestOf(request);
  if (remembered !== undefined) return remembered.target;
  const url = new URL(request.url);
  return url.pathname + url.search;
}

// Django's host_validation_re: a DNS name or a bracketed IPv6 address, then an optional port.
const HOST_SYNTAX = /^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:\d+)?$/;

/** Django's `split_domain_port`: the lowercased domain without port or trailing dot, `''` when the host is malformed. */
export function hostDomain(host: string): string {
  const lower = host.toLowerCase();
  if (!HOST_SYNTAX.test(lower)) return '';
  if (lower.endsWith(']')) return lower;
  const colon = lower.lastIndexOf(':');
  const domain = colon < 0 ? lower : lower.slice(0, colon);
  return domain.endsWith('.') ? domain.slice(0, -1) : domain;
}

/** Django's `validate_host`: `*` allows any host, `.example.com` the domain and its subdomains. */
export function isAllowedHost(domain: string, patterns: readonly string[]): boolean {
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    if (pattern === '*' || pattern === domain) return true;
    return pattern.startsWith('.') && (domain.endsWith(pattern) || domain === pattern.slice(1));
  });
}

/**
 * A header as a WSGI server gives it to Django: its lines joined with `,`, whatever the case of
 * their names; `null` when there is none. Node keeps only the first `Host` line, so two of them
 * would otherwise read as one host here while another server reads the other.
 */
export function joinedHeaderLines(rawHeaders: readonly string[], lowerCaseName: string): string | null {
  let joined: string | null = null;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length !== lowerCaseName.length || name.toLowerCase() !== lowerCaseName) continue;
    joined = joined === null ? rawHeaders[index + 1]! : `${joined},${rawHeaders[index + 1]!}`;
  }
  return joined;
}

/** A host header from the lines as received when the adapter recorded them, so repeated lines are seen. */
function hostHeader(request: RequestLike, lowerCaseName: 'host' | 'x-forwarded-host'): string | null {
  const rawHeaders = rawRequestOf(request)?.headers;
  return rawHeaders === undefined ? request.headers.get(lowerCaseName) : joinedHeaderLines(rawHeaders, lowerCaseName);
}

/**
 * The host as Django's `get_host` reads it (before validation): forwarded host, `Host`, the URL's
 * own. A header sent twice gives both values joined with `,`, which no host check accepts.
 */
export function requestHost(request: RequestLike, options: RequestUriOptions = {}): string {
  if (options.useForwardedHost) {
    const forwarded = hostHeader(request, 'x-forwarded-host');
    if (forwarded !== null) return forwarded;
  }
  return hostHeader(request, 'host') ?? new URL(request.url).host;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/**
 * The authority of a request target in absolute form (`GET http://host/path`, as sent to
 * proxies), lowercased; `undefined` for the usual origin form (`/path`) and when the adapter
 * recorded no target. RFC 9112 says such a target names the host, while `Host` is what Node's
 * `request.headers.host` and Django's `get_host` read.
 */
export function absoluteFormAuthority(request: RequestLike): string | undefined {
  const target = rawRequestOf(request)?.target;
  if (target === undefined || target.startsWith('/')) return undefined;
  return ABSOLUTE_FORM.exec(target)?.[1]?.toLowerCase();
}

function requestScheme(request: RequestLike, options: RequestUriOptions): string {
  if (options.secureProxyHeader) {
    const [header, secureValue] = options.secureProxyHeader;
    const value = request.headers.get(header);
    if (value !== null) return value.split(',')[0]!.trim() === secureValue ? 'https' : 'http';
  }
  const secure = rawRequestOf(request)?.secure ?? request.url.startsWith('https:');
  return secure ? 'https' : 'http';
}

// ---- Python's urllib.parse.quote, with the safe sets Django passes it --------------------------

const ALWAYS_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~';
/** `escape_uri_path`: a path's reserved and unreserved characters, minus `;`, `=` and `?`. */
const PATH_SAFE = safeBytes("/:@&+$,-_.!~*'()");
/** `iri_to_uri`: RFC 3986's reserved and unreserved characters, and `%` (already-escaped octets). */
const IRI_SAFE = safeBytes("/#%[]=:;$&()+,!?*@'~");

function safeBytes(extra: string): Uint8Array {
  const safe = new Uint8Array(128);
  for (const char of ALWAYS_SAFE + extra) safe[char.charCodeAt(0)] = 1;
  return safe;
}

function needsQuoting(text: string, safe: Uint8Array): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 128 || safe[code] !== 1) return true;
  }
  return false;
}

function quoteBytes(bytes: Uint8Array, safe: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += byte < 128 && safe[byte] === 1 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function quote(text: string, safe: Uint8Array): string {
  return needsQuoting(text, safe) ? quoteBytes(Buffer.from(text, 'utf8'), safe) : text;
}

// ---- the path as a WSGI server and Django decode it ------------------------------------------

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/** `urllib.parse.unquote_to_bytes`: `%XX` becomes the octet, anything else stays (as Latin-1). */
function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index++) {
    const hex = text.slice(index + 1, index + 3);
    if (text[index] === '%' && HEX_PAIR.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(text.charCodeAt(index) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** Length of the valid UTF-8 sequence starting at `start`, or 0 when the octet there begins none. */
function utf8SequenceLength(bytes: Buffer, start: number): number {
  const lead = bytes[start]!;
  if (lead < 0x80) return 1;
  const [length, min, max] = lead >= 0xc2 && lead <= 0xdf ? [2, 0x80, 0xbf]
    : lead === 0xe0 ? [3, 0xa0, 0xbf]
    : lead === 0xed ? [3, 0x80, 0x9f]
    : lead >= 0xe1 && lead <= 0xef ? [3, 0x80, 0xbf]
    : lead === 0xf0 ? [4, 0x90, 0xbf]
    : lead === 0xf4 ? [4, 0x80, 0x8f]
    : lead >= 0xf1 && lead <= 0xf3 ? [4, 0x80, 0xbf]
    : [0, 0, 0];
  if (length === 0 || start + length > bytes.length) return 0;
  const second = bytes[start + 1]!;
  if (second < min || second > max) return 0;
  for (let offset = 2; offset < length; offset++) {
    const next = bytes[start + offset]!;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}

/** Django's `repercent_broken_unicode` then `.decode()`: octets outside valid UTF-8 become `%XX` text. */
function decodeWithBrokenOctetsEscaped(bytes: Buffer): string {
  let out = '';
  let start = 0;
  let index = 0;
  while (index < bytes.length) {
    const length = utf8SequenceLength(bytes, index);
    if (length > 0) {
      index += length;
      continue;
    }
    out += bytes.toString('utf8', start, index) + quoteBytes(bytes.subarray(index, index + 1), IRI_SAFE);
    start = ++index;
  }
  return out + bytes.toString('utf8', start);
}

/** RFC 3986 §5.2.4, which `urljoin` applies to paths holding `/./` or `/../`. */
function removeDotSegments(path: string): string {
  const output: string[] = [];
  const segments = path.split('/');
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (segment === '..') {
      if (output.length > 1) output.pop();
      if (last) output.push('');
    } else if (segment === '.') {
      if (last) output.push('');
    } else {
      output.push(segment);
    }
  }
  return output.join('/') || '/';
}

/** `request.path` as Django builds it from PATH_INFO: decoded, and rooted at `/`. */
function djangoPath(rawPath: string): string {
  const decoded = rawPath.includes('%') ? decodeWithBrokenOctetsEscaped(percentDecode(rawPath)) : rawPath;
  return `/${decoded.replace('/', '')}`;
}

/**
 * Path and query of the request target, escaped as Django's `get_full_path`. A path with `.` or
 * `..` segments goes through `urljoin` in Django, which also takes a `#` in the query for the
 * start of a fragment and drops an empty query or fragment.
 */
function fullPath(target: string): string {
  const questionMark = target.indexOf('?');
  const rawPath = questionMark < 0 ? target : target.slice(0, questionMark);
  const rawQuery = questionMark < 0 ? '' : target.slice(questionMark + 1);
  const path = quote(djangoPath(rawPath), PATH_SAFE);
  const query = quote(rawQuery, IRI_SAFE);
  if (!path.includes('/./') && !path.includes('/../')) return query === '' ? path : `${path}?${query}`;
  const hash = query.indexOf('#');
  const [search, fragment] = hash < 0 ? [query, ''] : [query.slice(0, hash), query.slice(hash + 1)];
  return removeDotSegments(path) + (search === '' ? '' : `?${search}`) + (fragment === '' ? '' : `#${fragment}`);
}

/**
 * The absolute URI Django's `request.build_absolute_uri()` gives for this request, byte for byte:
 * scheme, host as sent, path decoded and re-escaped, query string escaped. Page cache keys hash it.
 */
export function absoluteUri(request: RequestLike, options: RequestUriOptions = {}): string {
  // Django escapes the whole URI once more; the path and query are escaped already (with safe
  // sets inside this one), so only the host can still change.
  return quote(`${requestScheme(request, options)}://${requestHost(request, options)}`, IRI_SAFE) + fullPath(requestTarget(request));
}
