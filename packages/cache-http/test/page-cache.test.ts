// The per-site and per-view page cache on the Fetch API: Django's CacheMiddlewareTest,
// CacheHEADTest and the middleware part of CacheI18nTest, then what Cachette adds (body limits,
// security rules, failing caches).
import { BaseCache, caches, closeCaches, configureCaches, MISSING } from '@cachette/cache-core';
import { LocMemCache } from '@cachette/cache-locmem';
import {
  cacheControl,
  cacheMiddleware,
  cachePage,
  getCacheKey,
  neverCache,
  varyOnCookie,
  varyOnHeaders,
  type Handler,
} from '@cachette/cache-http';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const helloWorld: Handler<[string | number]> = (_request, value) => new Response(`Hello World ${value}`);

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Request {
  return new Request(`http://testserver${path}`, { method, headers });
}

async function text(response: Response | Promise<Response>): Promise<string> {
  return (await response).text();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(1468749600_000); // Sun, 17 Jul 2016 10:00:00 GMT
  configureCaches({
    default: { backend: LocMemCache, location: 'page-default' },
    other: { backend: LocMemCache, location: 'page-other', timeout: 1 },
  });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all([caches.get('default').clear(), caches.get('other').clear()]);
});

afterAll(() => closeCaches());

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
}

describe('CacheMiddlewareTest', () => {
  it('test_middleware: a hit needs the same prefix, not the same timeout', async () => {
    const middleware = cacheMiddleware({ cache: 'other', keyPrefix: 'middlewareprefix', seconds: 30 })(helloWorld);
    const prefixed = cacheMiddleware({ cache: 'other', keyPrefix: 'prefix1', seconds: 30 })(helloWorld);
    const otherTimeout = cacheMiddleware({ cache: 'other', keyPrefix: 'middlewareprefix', seconds: 1 })(helloWorld);
    expect(await text(middleware(get('/view/'), '1'))).toBe('Hello World 1');
    expect(await text(middleware(get('/view/'), '2'))).toBe('Hello World 1');
    expect(await text(prefixed(get('/view/'), '3'))).toBe('Hello World 3');
    expect(await text(otherTimeout(get('/view/'), '4'))).toBe('Hello World 1');
  });

  it('test_view_decorator: aliases, prefixes and timeouts', async () => {
    const defaultView = cachePage(3)(helloWorld);
    const defaultWithPrefix = cachePage(3, { keyPrefix: 'prefix1' })(helloWorld);
    const explicitDefault = cachePage(3, { cache: 'default' })(helloWorld);
    const explicitDefaultWithPrefix = cachePage(3, { cache: 'default', keyPrefix: 'prefix1' })(helloWorld);
    const otherView = cachePage(1, { cache: 'other' })(helloWorld);
    const otherWithPrefix = cachePage(1, { cache: 'other', keyPrefix: 'prefix2' })(helloWorld);
    const request = () => get('/view/');

    expect(await text(defaultView(request(), '1'))).toBe('Hello World 1');
    expect(await text(defaultView(request(), '2'))).toBe('Hello World 1');
    expect(await text(explicitDefault(request(), '3'))).toBe('Hello World 1');
    expect(await text(explicitDefaultWithPrefix(request(), '4'))).toBe('Hello World 4');
    expect(await text(explicitDefaultWithPrefix(request(), '5'))).toBe('Hello World 4');
    expect(await text(defaultWithPrefix(request(), '6'))).toBe('Hello World 4');
    expect(await text(otherView(request(), '7'))).toBe('Hello World 7');
    expect(await text(otherView(request(), '8'))).toBe('Hello World 7');
    expect(await text(otherWithPrefix(request(), '9'))).toBe('Hello World 9');

    advance(2);
    expect(await text(defaultView(request(), '11'))).toBe('Hello World 1');
    expect(await text(defaultWithPrefix(request(), '12'))).toBe('Hello World 4');
    expect(await text(explicitDefault(request(), '13'))).toBe('Hello World 1');
    expect(await text(explicitDefaultWithPrefix(request(), '14'))).toBe('Hello World 4');
    expect(await text(otherView(request(), '15'))).toBe('Hello World 15');
    expect(await text(otherWithPrefix(request(), '16'))).toBe('Hello World 16');
  });

  it.each([
    [1, 3],
    [3, 1],
  ])('test_cache_page_timeout: max-age %i, page timeout %i: the page timeout decides', async (maxAge, pageTimeout) => {
    const view = cachePage(pageTimeout)(cacheControl({ maxAge })(helloWorld));
    expect(await text(view(get('/view/'), '1'))).toBe('Hello World 1');
    advance(1.5);
    expect(await text(view(get('/view/'), '2'))).toBe(pageTimeout > maxAge ? 'Hello World 1' : 'Hello World 2');
  });

  it.each(['private', 'noCache', 'noStore'])('test_cache_control_not_cached: %s', async (directive) => {
    const view = cachePage(3)(cacheControl({ [directive]: true })(helloWorld));
    expect(await text(view(get('/view/'), '1'))).toBe('Hello World 1');
    expect(await text(view(get('/view/'), '2'))).toBe('Hello World 2');
  });

  it('test_sensitive_cookie_not_cached: a response that sets a cookie is never stored, nor given caching headers', async () => {
    const view = cacheMiddleware()(async (_request: Request, value: string) => {
      const response = new Response(`token ${value}`);
      response.headers.append('Set-Cookie', `csrftoken=${value}; Path=/`);
      return response;
    });
    const first = await view(get('/view/'), 'a');
    expect(first.headers.getSetCookie()).toEqual(['csrftoken=a; Path=/']);
    expect(first.headers.has('Cache-Control')).toBe(false);
    const second = await view(get('/view/'), 'b');
    expect(await second.text()).toBe('token b');
    expect(await getCacheKey(get('/view/'))).toBeNull();
  });

  it('test_304_response_has_http_caching_headers_but_not_cached', async () => {
    let calls = 0;
    const view = cachePage(2)(() => {
      calls++;
      return new Response(null, { status: 304 });
    });
    await view(get('/view/'));
    const response = await view(get('/view/'));
    expect(calls).toBe(2);
    expect(response.status).toBe(304);
    expect(response.headers.get('Cache-Control')).toBe('max-age=2');
    expect(response.headers.has('Expires')).toBe(true);
  });

  it('test_cache_control_max_age: Expires and max-age, then Age on the hit', async () => {
    const view = cachePage(2)(helloWorld);
    const first = await view(get('/view/'), 1);
    expect(first.headers.get('Expires')).toBe('Sun, 17 Jul 2016 10:00:02 GMT');
    expect(first.headers.get('Cache-Control')).toBe('max-age=2');
    expect(first.headers.has('Age')).toBe(false);
    advance(1);
    const second = await view(get('/view/'), 1);
    expect(second.headers.get('Expires')).toBe('Sun, 17 Jul 2016 10:00:02 GMT');
    expect(second.headers.get('Cache-Control')).toBe('max-age=2');
    expect(second.headers.get('Age')).toBe('1');
  });

  it("a view's own max-age sets the middleware's timeout; max-age=0 is not stored", async () => {
    let calls = 0;
    const short = cacheMiddleware()(cacheControl({ maxAge: 5 })(() => new Response(`call ${++calls}`)));
    expect(await text(short(get('/short/')))).toBe('call 1');
    advance(4);
    expect(await text(short(get('/short/')))).toBe('call 1');
    advance(2);
    expect(await text(short(get('/short/')))).toBe('call 2');

    let zeroCalls = 0;
    const zero = cacheMiddleware()(cacheControl({ maxAge: 0 })(() => new Response(`zero ${++zeroCalls}`)));
    await zero(get('/zero/'));
    const again = await zero(get('/zero/'));
    expect(await again.text()).toBe('zero 2');
    expect(again.headers.has('Expires')).toBe(false);
  });

  it('only GET and HEAD are looked up or stored, and only 200s are stored', async () => {
    let calls = 0;
    const view = cacheMiddleware()((request: Request) => new Response(`${request.method} ${++calls}`, { status: request.method === 'GET' && calls > 2 ? 404 : 200 }));
    expect(await text(view(get('/p/', {}, 'POST')))).toBe('POST 1');
    expect(await text(view(get('/p/', {}, 'POST')))).toBe('POST 2');
    const missing = cacheMiddleware()(() => new Response('gone', { status: 404 }));
    await missing(get('/q/'));
    expect(await getCacheKey(get('/q/'))).toBeNull();
  });
});

describe('CacheHEADTest', () => {
  it('test_head_caches_correctly', async () => {
    const view = cacheMiddleware({ keyPrefix: 'test', seconds: 60 })((_request: Request, body: string) => new Response(body));
    await view(get('/cache/test/', {}, 'HEAD'), 'test content');
    const hit = await view(get('/cache/test/', {}, 'HEAD'), 'other content');
    expect(hit.headers.get('Content-Length')).toBe(String('test content'.length));
    expect(hit.headers.has('Age')).toBe(true);
    expect(await hit.text()).toBe('');
  });

  it('test_head_with_cached_get', async () => {
    const view = cacheMiddleware({ keyPrefix: 'test', seconds: 60 })((_request: Request, body: string) => new Response(body));
    await view(get('/cache/test/'), 'test content');
    const head = await view(get('/cache/test/', {}, 'HEAD'), 'other content');
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).toBe(String('test content'.length));
    expect(await text(view(get('/cache/test/'), 'other'))).toBe('test content');
  });
});

describe('CacheI18nTest.test_middleware', () => {
  it('keys pages by query string', async () => {
    const view = cacheMiddleware({ keyPrefix: 'test', seconds: 60 })((_request: Request, body: string) => new Response(body));
    expect(await text(view(get('/cache/test/?foo=bar&other=true'), 'Check for cache with QUERY_STRING'))).toBe('Check for cache with QUERY_STRING');
    expect(await text(view(get('/cache/test/?foo=bar&other=true'), 'x'))).toBe('Check for cache with QUERY_STRING');
    expect(await text(view(get('/cache/test/?foo=bar&somethingelse=true'), 'y'))).toBe('y');
  });

  it('keys pages by the active language', async () => {
    const language = (request: { headers: { get(name: string): string | null } }) => (request.headers.get('accept-language')?.startsWith('es') ? 'es' : 'en');
    const view = cacheMiddleware({ keyPrefix: 'test', seconds: 60, language })(
      varyOnHeaders('Accept-Language')((request: Request) => new Response(language(request) === 'es' ? 'Hola mundo!' : 'Hello world!')),
    );
    expect(await text(view(get('/cache/test/', { 'Accept-Language': 'en' })))).toBe('Hello world!');
    expect(await text(view(get('/cache/test/', { 'Accept-Language': 'es' })))).toBe('Hola mundo!');
    const cachedOnly = cacheMiddleware({ keyPrefix: 'test', seconds: 60, language })(() => new Response('rendered again'));
    expect(await text(cachedOnly(get('/cache/test/', { 'Accept-Language': 'en-GB' })))).toBe('Hello world!');
    expect(await text(cachedOnly(get('/cache/test/', { 'Accept-Language': 'es-ES' })))).toBe('Hola mundo!');
  });
});

describe('bodies', () => {
  it('a body over maxBodyBytes streams through uncached, bytes intact', async () => {
    const chunk = new Uint8Array(1000).fill(120);
    let calls = 0;
    const view = cacheMiddleware({ maxBodyBytes: 2500 })(() => {
      calls++;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 5) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return new Response(body);
    });
    const first = await view(get('/big/'));
    expect((await first.arrayBuffer()).byteLength).toBe(5000);
    expect((await (await view(get('/big/'))).arrayBuffer()).byteLength).toBe(5000);
    expect(calls).toBe(2);
  });

  it('a declared Content-Length over the limit is not read before it is sent', async () => {
    let pulls = 0;
    const view = cacheMiddleware({ maxBodyBytes: 10 })(() => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++;
          controller.enqueue(new Uint8Array(20));
          controller.close();
        },
      });
      return new Response(body, { headers: { 'Content-Length': '20' } });
    });
    const response = await view(get('/declared/'));
    expect(pulls).toBeLessThanOrEqual(1); // a stream may pre-pull one chunk, never the whole body
    expect((await response.arrayBuffer()).byteLength).toBe(20);
    expect(await getCacheKey(get('/declared/'))).toBeNull();
  });

  it('a streamed body within the limit is stored, and binary bytes come back unchanged', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, index) => index);
    const view = cacheMiddleware()(() => new Response(new Blob([bytes.subarray(0, 100), bytes.subarray(100)]).stream(), { headers: { 'Content-Type': 'application/octet-stream' } }));
    await view(get('/bytes/'));
    const hit = await view(get('/bytes/'));
    expect(hit.headers.has('Age')).toBe(true);
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(bytes);
    expect(hit.headers.get('Content-Type')).toBe('application/octet-stream');
  });

  it('repeated headers survive the store', async () => {
    const view = cacheMiddleware()(() => {
      const response = new Response('x');
      response.headers.append('Link', '</a.css>; rel=preload');
      response.headers.append('Link', '</b.js>; rel=preload');
      return response;
    });
    await view(get('/links/'));
    const hit = await view(get('/links/'));
    expect(hit.headers.get('Age')).not.toBeNull();
    expect(hit.headers.get('Link')).toBe('</a.css>; rel=preload, </b.js>; rel=preload');
  });
});

describe('conditional hits', () => {
  it('a cached page with an ETag answers If-None-Match with 304, keeping validators and caching headers', async () => {
    const view = cacheMiddleware()(() => new Response('tagged', { headers: { ETag: '"v1"', 'Last-Modified': 'Sun, 21 Oct 2007 23:21:47 GMT' } }));
    await view(get('/tagged/'));
    const notModified = await view(get('/tagged/', { 'If-None-Match': '"v1"' }));
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
    expect(notModified.headers.get('ETag')).toBe('"v1"');
    expect(notModified.headers.get('Cache-Control')).toBe('max-age=600');
    expect(notModified.headers.has('Age')).toBe(true);
    expect((await view(get('/tagged/', { 'If-None-Match': '"v2"' }))).status).toBe(200);
    expect((await view(get('/tagged/', { 'If-Modified-Since': 'Sun, 21 Oct 2007 23:21:47 GMT' }))).status).toBe(304);
    const plain = cacheMiddleware({ conditional: false })(() => new Response('never'));
    expect((await plain(get('/tagged/', { 'If-None-Match': '"v1"' }))).status).toBe(200);
  });
});

describe('security', () => {
  it('a page that varies on Cookie is never served to a client with other cookies', async () => {
    const view = cacheMiddleware()(varyOnCookie((request: Request) => new Response(`page of ${request.headers.get('cookie') ?? 'nobody'}`)));
    expect(await text(view(get('/account/', { Cookie: 'sessionid=alice' })))).toBe('page of sessionid=alice');
    expect(await text(view(get('/account/', { Cookie: 'sessionid=bob' })))).toBe('page of sessionid=bob');
    expect(await text(view(get('/account/')))).toBe('page of nobody');
    expect(await text(view(get('/account/', { Cookie: '' })))).toBe('page of ');
    const cachedOnly = cacheMiddleware()(() => new Response('rendered again'));
    expect(await text(cachedOnly(get('/account/', { Cookie: 'sessionid=alice' })))).toBe('page of sessionid=alice');
    expect(await text(cachedOnly(get('/account/', { Cookie: 'sessionid=bob' })))).toBe('page of sessionid=bob');
    expect(await text(cachedOnly(get('/account/', { Cookie: 'sessionid=carol' })))).toBe('rendered again');
  });

  it.each([
    ['Cache-Control: private', { 'Cache-Control': 'private' }],
    ['Cache-Control: no-store', { 'Cache-Control': 'no-store' }],
    ['Vary: *', { Vary: '*' }],
    ['Vary: Accept, *', { Vary: 'Accept, *' }],
  ])('a response with %s is never stored', async (_name, headers) => {
    let calls = 0;
    const view = cacheMiddleware()(() => new Response(`secret ${++calls}`, { headers }));
    expect(await text(view(get('/secret/')))).toBe('secret 1');
    expect(await text(view(get('/secret/')))).toBe('secret 2');
  });

  it('a response to a request with Authorization is stored only when it says it may be shared', async () => {
    let calls = 0;
    const personal = cacheMiddleware()(() => new Response(`personal ${++calls}`));
    expect(await text(personal(get('/api/me', { Authorization: 'Bearer alice' })))).toBe('personal 1');
    expect(await text(personal(get('/api/me', { Authorization: 'Bearer bob' })))).toBe('personal 2');
    const shared = cacheMiddleware()(cacheControl({ public: true })(() => new Response(`shared ${++calls}`)));
    expect(await text(shared(get('/api/public', { Authorization: 'Bearer alice' })))).toBe('shared 3');
    expect(await text(shared(get('/api/public', { Authorization: 'Bearer bob' })))).toBe('shared 3');
  });

  it('a host outside allowedHosts gets 400 before any key is built; a malformed one too', async () => {
    let calls = 0;
    const view = cacheMiddleware({ allowedHosts: ['.example.com'] })(() => new Response(`page ${++calls}`));
    const request = (host: string) => new Request('http://example.com/', { headers: { Host: host } });
    expect(await text(view(request('www.example.com')))).toBe('page 1');
    expect(await text(view(request('example.com:8000')))).toBe('page 2');
    const refused = await view(request('evil.com'));
    expect(refused.status).toBe(400);
    expect(calls).toBe(2);
    const open = cacheMiddleware()(() => new Response('open'));
    expect((await open(request('bad host'))).status).toBe(400);
    expect((await open(request('exa_mple.com'))).status).toBe(400);
    const byFunction = cacheMiddleware({ allowedHosts: (domain) => domain === 'example.com' })(() => new Response('fn'));
    expect((await byFunction(request('EXAMPLE.com.'))).status).toBe(200);
    expect((await byFunction(request('other.com'))).status).toBe(400);
  });

  it('an X-Forwarded-Host the keys do not include never gets its page stored', async () => {
    let calls = 0;
    const view = cacheMiddleware()((request: Request) => new Response(`<a href="//${request.headers.get('x-forwarded-host') ?? 'testserver'}/"> ${++calls}`));
    expect(await text(view(get('/', { 'X-Forwarded-Host': 'evil.com' })))).toBe('<a href="//evil.com/"> 1');
    expect(await text(view(get('/')))).toBe('<a href="//testserver/"> 2');
    expect(await text(view(get('/')))).toBe('<a href="//testserver/"> 2');
    let forwardedCalls = 0;
    const rfc7239 = cacheMiddleware()(() => new Response(`forwarded ${++forwardedCalls}`));
    await rfc7239(get('/f/', { Forwarded: 'for=1.2.3.4;host=evil.com' }));
    expect(await text(rfc7239(get('/f/')))).toBe('forwarded 2');
    // With useForwardedHost the forwarded host is keyed (and checked against allowedHosts).
    const keyed = cacheMiddleware({ useForwardedHost: true, allowedHosts: ['testserver', 'cdn.example.com'] })(
      (request: Request) => new Response(`for ${request.headers.get('x-forwarded-host')}`),
    );
    expect(await text(keyed(get('/k/', { 'X-Forwarded-Host': 'cdn.example.com' })))).toBe('for cdn.example.com');
    expect(await text(keyed(get('/k/', { 'X-Forwarded-Host': 'cdn.example.com' })))).toBe('for cdn.example.com');
    expect((await keyed(get('/k/', { 'X-Forwarded-Host': 'evil.com' }))).status).toBe(400);
  });

  it('neverCache pages are never stored', async () => {
    let calls = 0;
    const view = cacheMiddleware()(neverCache(() => new Response(`account ${++calls}`)));
    await view(get('/account/'));
    expect(await text(view(get('/account/')))).toBe('account 2');
  });
});

/** A cache whose every operation fails, as a server that is down: injects the fault alone. */
class FailingCache extends BaseCache {
  failures = 0;
  private fail(): never {
    this.failures++;
    throw new Error('cache server is down');
  }
  protected getItem(): never {
    return this.fail();
  }
  protected setItem(): never {
    return this.fail();
  }
  protected addItem(): never {
    return this.fail();
  }
  protected touchItem(): never {
    return this.fail();
  }
  protected deleteItem(): never {
    return this.fail();
  }
  protected incrItem(): typeof MISSING {
    return this.fail();
  }
  async clear(): Promise<void> {}
}

describe('a failing cache', () => {
  it('never fails the page: lookups and stores are reported to onError', async () => {
    const cache = new FailingCache();
    const errors: string[] = [];
    const view = cacheMiddleware({ cache, onError: (error, phase) => errors.push(`${phase}: ${(error as Error).message}`) })(() => new Response('rendered'));
    const response = await view(get('/'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('rendered');
    expect(errors).toEqual(['lookup: cache server is down', 'store: cache server is down']);
  });

  it('reports as a process warning by default, and fails the request when onError throws', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const view = cacheMiddleware({ cache: new FailingCache() })(() => new Response('rendered'));
      expect(await text(view(get('/')))).toBe('rendered');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toContain('CachettePageCacheWarning: The page cache could not be read: Error: cache server is down');
    } finally {
      process.off('warning', onWarning);
    }
    const strict = cacheMiddleware({
      cache: new FailingCache(),
      onError: (error) => {
        throw error;
      },
    })(() => new Response('rendered'));
    await expect(strict(get('/'))).rejects.toThrow('cache server is down');
  });

  it('an entry that is not a page is a miss, and is replaced', async () => {
    let calls = 0;
    const view = cacheMiddleware()(() => new Response(`page ${++calls}`));
    await view(get('/corrupt/'));
    const key = (await getCacheKey(get('/corrupt/')))!;
    await caches.get().set(key, { not: 'a page' });
    expect(await text(view(get('/corrupt/')))).toBe('page 2');
    expect(await text(view(get('/corrupt/')))).toBe('page 2');
    for (const corrupt of ['cachette:page:1\n', 'cachette:page:1\n200\n1\n5\nvary\n', 'cachette:page:1\nabc\n1\n0\nbody', 'cachette:page:1\n200\n1\n-1\nbody']) {
      await caches.get().set(key, corrupt);
      const body = await text(view(get('/corrupt/')));
      expect(body).toBe(`page ${calls}`);
    }
    expect(calls).toBe(6);
  });
});
