import { Readable, Transform } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteHandlerMethod, onRequestHookHandler, onSendHookHandler } from 'fastify';
import { PageCache, cachePageOptions, groupHeaderList, type CacheMiddlewareOptions, type CachePageOptions, type CachedPage, type Handler, type HeaderStore, type PageLookup, type PageMiss } from '@cachette/cache-http';
import { requestView, toRequest } from '@cachette/cache-http/node';

const misses = new WeakMap<FastifyRequest, PageMiss>();

function replyHeaders(reply: FastifyReply): HeaderStore {
  return {
    get: (name) => {
      const value = reply.getHeader(name);
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : String(value);
    },
    set: (name, value) => void reply.header(name, value),
    has: (name) => reply.hasHeader(name),
  };
}

function* replyHeaderEntries(reply: FastifyReply): Generator<[string, string]> {
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) yield [name, String(item)];
    else yield [name, String(value)];
  }
}

/** Whether the header name at `index` of alternating names and values came earlier too. */
function isRepeated(headers: readonly string[], index: number): boolean {
  for (let earlier = 0; earlier < index; earlier += 2) if (headers[earlier] === headers[index]) return true;
  return false;
}

function sendPage(reply: FastifyReply, page: CachedPage): FastifyReply {
  reply.code(page.status);
  const { headers } = page;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index]!;
    // reply.header() replaces a value (Set-Cookie aside): a repeated name gets the list.
    reply.header(name, isRepeated(headers, index) ? groupHeaderList(headers).get(name) : headers[index + 1]);
  }
  return reply.send(page.body ?? undefined);
}

/** A stream passing `source` through while keeping up to `limit` bytes; `done` gets them all, or nothing past the limit. */
function recordStream(source: Readable, limit: number, done: (body: Buffer) => void): Readable {
  const chunks: Buffer[] = [];
  let size = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (size <= limit) done(Buffer.concat(chunks, size));
      callback();
    },
  });
  source.on('error', (error) => tee.destroy(error));
  return source.pipe(tee);
}

/** The response phase of a miss: what Fastify is to send (the payload, or a stream recording it). */
async function finishMiss(miss: PageMiss, reply: FastifyReply, payload: unknown, maxBodyBytes: number): Promise<unknown> {
  if (payload instanceof Response) {
    // Fastify applies a Response's status and headers after the hooks: decide on its own.
    return reply.hasHeader('set-cookie') ? payload : miss.respond(payload);
  }
  const timeout = miss.prepare(reply.statusCode, replyHeaders(reply), reply.hasHeader('set-cookie'));
  if (timeout === null || reply.statusCode !== 200) return payload;
  const store = (body: Uint8Array) => miss.store(200, replyHeaderEntries(reply), body, timeout);
  if (payload === null || payload === undefined) await store(new Uint8Array(0));
  else if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (body.length <= maxBodyBytes) await store(body);
  } else if (payload instanceof Readable || payload instanceof ReadableStream) {
    const source = payload instanceof Readable ? payload : Readable.fromWeb(payload as import('node:stream/web').ReadableStream);
    return recordStream(source, maxBodyBytes, (body) => void store(body));
  }
  return payload;
}

type PageCacheHooks = { onRequest: onRequestHookHandler; onSend: onSendHookHandler<unknown> };

function answerLookup(lookup: PageLookup, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
  if (lookup.outcome === 'hit' || lookup.outcome === 'refused') {
    sendPage(reply, lookup.page);
    return;
  }
  if (lookup.outcome === 'miss') misses.set(request, lookup.miss);
  done();
}

// Callback-style hooks: a hit on an in-process cache is answered without a Promise or a tick.
function pageCacheHooks(pageCache: PageCache): PageCacheHooks {
  const onRequest: onRequestHookHandler = (request, reply, done) => {
    try {
      const lookup = pageCache.lookup(requestView(request.raw));
      if (lookup instanceof Promise) lookup.then((answer) => answerLookup(answer, request, reply, done), done);
      else answerLookup(lookup, request, reply, done);
    } catch (error) {
      done(error as Error);
    }
  };

  const onSend: onSendHookHandler<unknown> = (request, reply, payload, done) => {
    const miss = misses.get(request);
    if (miss === undefined) {
      done(null, payload);
      return;
    }
    misses.delete(request);
    finishMiss(miss, reply, payload, pageCache.maxBodyBytes).then((sent) => done(null, sent), done);
  };

  return { onRequest, onSend };
}

/**
 * The per-site cache as a Fastify plugin: `await app.register(cacheMiddleware(options))` caches
 * every route registered on `app` (the plugin does not create an encapsulation context).
 */
export function cacheMiddleware(options: CacheMiddlewareOptions = {}): FastifyPluginAsync {
  const { onRequest, onSend } = pageCacheHooks(new PageCache({ ...options, pageTimeout: null }));
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', onRequest);
    app.addHook('onSend', onSend);
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'cachette-cache-middleware' });
}

/** `cachePage` as route hooks: `app.get('/article/:id', { ...cachePage(60) }, handler)`. */
export function cachePage(timeout: number | null, options: CachePageOptions = {}): PageCacheHooks {
  return pageCacheHooks(new PageCache(cachePageOptions(timeout, options)));
}

/**
 * A Fetch handler as a Fastify route handler (so `cachePage`, `condition`, `cacheControl`, … of
 * `@cachette/cache-http` wrap it). It also gets Fastify's request and reply. Fastify has parsed
 * the request body already: read it from `request.body`, not from the Fetch request.
 */
export function toFastifyHandler(handler: Handler<[FastifyRequest, FastifyReply]>): RouteHandlerMethod {
  return async function (request, reply) {
    return reply.send(await handler(toRequest(request.raw), request, reply));
  };
}
