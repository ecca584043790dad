import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { DisallowedHost, pyRepr } from '@cachette/cache-core';
import { pipeline } from 'node:stream/promises';
import {
  PageCache,
  cachePageOptions,
  groupHeaderList,
  hostDomain,
  joinedHeaderLines,
  rememberRawRequest,
  type CacheMiddlewareOptions,
  type CachePageOptions,
  type CachedPage,
  type Handler,
  type HeaderStore,
  type PageLookup,
  type PageMiss,
  type RawRequest,
  type RequestLike,
} from '@cachette/cache-http';

/** A `node:http` request listener. */
export type NodeListener = (request: IncomingMessage, response: ServerResponse) => void;

function isEncrypted(request: IncomingMessage): boolean {
  return (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
}

function headerText(value: string | string[] | number | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** The absolute URL of a request, from its socket, `Host` and target (an absolute-form or `*` target counts as `/`). */
export function requestUrl(request: IncomingMessage, target = request.url ?? '/'): string {
  return `${isEncrypted(request) ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}${target.startsWith('/') ? target : '/'}`;
}

/** `Headers`-like reading of a Node request's headers (repeated ones joined as Node joins them). */
class NodeRequestHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    return headerText(this.headers[name.toLowerCase()]);
  }
}

/** What the page cache reads of a Node request: no Fetch `Request` is built on the hit path. */
class NodeRequestView implements RequestLike {
  readonly method: string;
  readonly headers: NodeRequestHeaders;
  readonly raw: RawRequest;

  constructor(private readonly request: IncomingMessage, target: string) {
    this.method = request.method ?? 'GET';
    this.headers = new NodeRequestHeaders(request.headers);
    this.raw = { target, headers: request.rawHeaders, secure: isEncrypted(request) };
  }

  get url(): string {
    return requestUrl(this.request, this.raw.target);
  }
}

/**
 * What the page cache reads of a Node request, without building a Fetch `Request` (the hit path
 * never builds one). `target` is the request target as received (Express: `originalUrl`).
 */
export function requestView(request: IncomingMessage, target = request.url ?? '/'): RequestLike {
  return new NodeRequestView(request, target);
}

/**
 * A Fetch `Request` for a Node request: repeated headers kept, the body streamed, aborted when the
 * client goes. A `Host` that is no host name, or is sent twice, throws `DisallowedHost` (answered with 400).
 */
export function toRequest(request: IncomingMessage, target = request.url ?? '/'): Request {
  // All its Host lines: Node's `headers.host` keeps the first of several, which would pass the check.
  const host = joinedHeaderLines(request.rawHeaders, 'host');
  if (host !== null && hostDomain(host) === '') throw new DisallowedHost(`Invalid HTTP_HOST header: ${pyRepr(host)}. The domain name provided is not valid according to RFC 1034/1035.`);
  const headers = new Headers();
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    // HTTP/2 pseudo-headers (:path, …) are not header fields.
    if (!raw[index]!.startsWith(':')) headers.append(raw[index]!, raw[index + 1]!);
  }
  const method = request.method ?? 'GET';
  const controller = new AbortController();
  request.once('close', () => {
    if (!request.complete) controller.abort();
  });
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const fetchRequest = new Request(requestUrl(request, target), {
    method,
    headers,
    signal: controller.signal,
    body: hasBody ? (Readable.toWeb(request) as ReadableStream<Uint8Array>) : null,
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
  rememberRawRequest(fetchRequest, { target, headers: raw, secure: isEncrypted(request) });
  return fetchRequest;
}

function sendsNoBody(method: string | undefined, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

/**
 * `writeHead` with alternating names and values. Once a header was set with `setHeader` (Express
 * sets `X-Powered-By`), Node merges `writeHead`'s list one `setHeader` at a time, so a repeated
 * name (two `Set-Cookie`) would keep only its last value: group them first in that case.
 */
function writeHeadWith(response: ServerResponse, status: number, headers: readonly string[], message?: string): void {
  if (response.getHeaderNames().length === 0) {
    response.writeHead(status, message, headers as string[]);
    return;
  }
  setHeaderList(response, headers);
  response.writeHead(status, message);
}

/** Sets alternating names and values, each repeated name as one list. */
function setHeaderList(response: ServerResponse, headers: readonly string[]): void {
  for (const [name, values] of groupHeaderList(headers)) response.setHeader(name, values.length === 1 ? values[0]! : values);
}

/** Writes a Fetch `Response` to a Node response: status, every header (each `Set-Cookie` on its own), the body streamed with back-pressure. */
export async function sendResponse(response: ServerResponse, fetchResponse: Response): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of fetchResponse.headers) headers.push(name, value);
  writeHeadWith(response, fetchResponse.status, headers, fetchResponse.statusText || undefined);
  const body = fetchResponse.body;
  if (body === null || sendsNoBody(response.req?.method, fetchResponse.status)) {
    response.end();
    await body?.cancel();
    return;
  }
  try {
    await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), response);
  } catch (error) {
    // A client that left mid-body is not an error of the handler's; a body that failed is.
    if (!response.destroyed || response.writableFinished) throw error;
  }
}

/** Sends a page from the cache. */
export function sendPage(response: ServerResponse, page: CachedPage): void {
  writeHeadWith(response, page.status, page.headers);
  response.end(page.body ?? undefined);
}

export interface ListenerOptions {
  /** Called with an error the handler threw; the client gets a 500 (or a reset, when the headers were sent). Default: `console.error`. */
  onError?: (error: unknown, request: IncomingMessage) => void;
}

function failed(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const badRequest = error instanceof DisallowedHost;
  response.writeHead(badRequest ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(badRequest ? 'Bad Request' : 'Internal Server Error');
}

/** A Fetch handler as a `node:http` listener. The handler also gets the Node request and response. */
export function toNodeListener(handler: Handler<[IncomingMessage, ServerResponse]>, options: ListenerOptions = {}): NodeListener {
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  return (request, response) => {
    Promise.resolve()
      .then(() => handler(toRequest(request), request, response))
      .then((fetchResponse) => sendResponse(response, fetchResponse))
      .catch((error: unknown) => {
        if (!(error instanceof DisallowedHost)) onError(error, request);
        failed(response, error);
      });
  };
}

// ---- page caching for native listeners --------------------------------------------------------

/** `Headers`-like access to a Node response's headers. */
export function responseHeaders(response: ServerResponse): HeaderStore {
  return {
    get: (name) => headerText(response.getHeader(name)),
    set: (name, value) => void response.setHeader(name, value),
    has: (name) => response.hasHeader(name),
  };
}

function* headerEntries(headers: OutgoingHttpHeaders): Generator<[string, string]> {
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) yield [name, item];
    else yield [name, String(value)];
  }
}

type WriteHeadHeaders = OutgoingHttpHeaders | OutgoingHttpHeader[] | readonly string[];

/** Headers given to `writeHead` itself, set on the response so the page cache sees them. */
function applyWriteHeadHeaders(response: ServerResponse, headers: WriteHeadHeaders | undefined): void {
  if (headers === undefined) return;
  if (!Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) response.setHeader(name, value);
    return;
  }
  setHeaderList(response, Array.isArray(headers[0]) ? (headers as OutgoingHttpHeader[][]).flat().map(String) : headers.map(String));
}

function chunkBytes(chunk: unknown, encoding: unknown): Buffer | null {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return null;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return null;
}

/**
 * Follows what a native listener writes to `response`: before the headers go out, the page cache
 * decides and patches them (`Expires`, `max-age`); the body is recorded as it streams to the
 * client (up to `maxBodyBytes`, then recording stops). When the listener ends a page that may be
 * stored, the end of the response waits for the store, so a client that has the whole page can
 * count on the next request being a hit (as Django stores before it returns).
 */
export function recordPage(response: ServerResponse, miss: PageMiss, maxBodyBytes: number): void {
  const { writeHead, write, end } = response;
  const chunks: Buffer[] = [];
  let size = 0;
  let recording = true;
  let decided = false;
  let timeout: number | null = null;

  const decide = (status: number): void => {
    if (decided) return;
    decided = true;
    timeout = miss.prepare(status, responseHeaders(response), response.hasHeader('set-cookie'));
    if (timeout === null) recording = false;
  };

  const record = (chunk: unknown, encoding: unknown): void => {
    if (!recording) return;
    const bytes = chunkBytes(chunk, encoding);
    if (bytes === null) return;
    size += bytes.length;
    if (size > maxBodyBytes) {
      recording = false;
      chunks.length = 0;
    } else {
      chunks.push(Buffer.from(bytes));
    }
  };

  response.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    response.writeHead = writeHead;
    const message = typeof rest[0] === 'string' ? rest[0] : undefined;
    applyWriteHeadHeaders(response, (message === undefined ? rest[0] : rest[1]) as WriteHeadHeaders | undefined);
    decide(status);
    return (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...(message === undefined ? [] : [message]));
  } as ServerResponse['writeHead'];

  response.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown) {
    record(chunk, encoding);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, encoding, callback);
  } as ServerResponse['write'];

  response.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    record(chunk, encoding);
    if (!response.headersSent) decide(response.statusCode);
    const finish = () => (end as (...args: unknown[]) => ServerResponse).call(this, chunk, encoding, callback);
    if (!recording || timeout === null || response.statusCode !== 200) return finish();
    recording = false;
    void miss.store(200, headerEntries(response.getHeaders()), Buffer.concat(chunks, size), timeout).then(finish);
    return this;
  } as ServerResponse['end'];
}

function answerLookup(pageCache: PageCache, lookup: PageLookup, request: IncomingMessage, response: ServerResponse, next: NodeListener): void {
  if (lookup.outcome === 'hit' || lookup.outcome === 'refused') {
    sendPage(response, lookup.page);
    return;
  }
  if (lookup.outcome === 'miss') recordPage(response, lookup.miss, pageCache.maxBodyBytes);
  next(request, response);
}

/**
 * Serves `request` from the page cache, or lets `next` produce the response (recording it when it
 * may be stored). Synchronous when the cache is: a locmem hit is sent in the same tick.
 */
export function servePage(pageCache: PageCache, request: IncomingMessage, response: ServerResponse, next: NodeListener, target?: string): void | Promise<void> {
  const lookup = pageCache.lookup(requestView(request, target));
  if (lookup instanceof Promise) return lookup.then((answer) => answerLookup(pageCache, answer, request, response, next));
  answerLookup(pageCache, lookup, request, response, next);
}

function failRequest(response: ServerResponse, error: unknown): void {
  console.error(error);
  failed(response, error);
}

function cachingListener(pageCache: PageCache, listener: NodeListener): NodeListener {
  return (request, response) => {
    try {
      servePage(pageCache, request, response, listener)?.catch((error: unknown) => failRequest(response, error));
    } catch (error) {
      failRequest(response, error);
    }
  };
}

/** The per-site cache around a `node:http` listener (see `cacheMiddleware` of `@cachette/cache-http`). */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): (listener: NodeListener) => NodeListener {
  const pageCache = new PageCache({ ...options, pageTimeout: null });
  return (listener) => cachingListener(pageCache, listener);
}

/** `cachePage` around a `node:http` listener. */
export function cachePage(timeout: number | null, options: CachePageOptions = {}): (listener: NodeListener) => NodeListener {
  const pageCache = new PageCache(cachePageOptions(timeout, options));
  return (listener) => cachingListener(pageCache, listener);
}
