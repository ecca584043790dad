// Django's tests/conditional_processing/tests.py (ConditionalGet) and the view decorators of
// tests/decorators/tests.py, on the Fetch API.
import {
  cacheControl,
  condition,
  etag,
  getConditionalResponse,
  lastModified,
  neverCache,
  parseEtags,
  quoteEtag,
  varyOnCookie,
  varyOnHeaders,
  type Handler,
} from '@cachette/cache-http';
import { describe, expect, it } from 'vitest';

const FULL_RESPONSE = 'Test conditional get response';
const LAST_MODIFIED = new Date(Date.UTC(2007, 9, 21, 23, 21, 47));
const LAST_MODIFIED_STR = 'Sun, 21 Oct 2007 23:21:47 GMT';
const LAST_MODIFIED_NEWER_STR = 'Mon, 18 Oct 2010 16:56:23 GMT';
const LAST_MODIFIED_INVALID_STR = 'Mon, 32 Oct 2010 16:56:23 GMT';
const EXPIRED_LAST_MODIFIED_STR = 'Sat, 20 Oct 2007 23:21:47 GMT';
const ETAG = '"b4246ffc4f62314ca13147c9d4f76974"';
const WEAK_ETAG = 'W/"b4246ffc4f62314ca13147c9d4f76974"';
const EXPIRED_ETAG = '"7fae4cd4b0f81e7d2914700043aa8ed6"';

const view: Handler<[]> = () => new Response(FULL_RESPONSE);

// conditional_processing/views.py
const views: Record<string, Handler<[]>> = {
  '/condition/': condition({ lastModified: () => LAST_MODIFIED, etag: () => ETAG })(view),
  '/condition/last_modified/': condition({ lastModified: () => LAST_MODIFIED })(view),
  '/condition/last_modified2/': lastModified(() => LAST_MODIFIED.getTime())(view),
  '/condition/etag/': condition({ etag: () => ETAG })(view),
  '/condition/etag2/': etag(() => ETAG)(view),
  '/condition/unquoted_etag/': condition({ etag: () => ETAG.slice(1, -1) })(view),
  '/condition/weak_etag/': condition({ etag: () => WEAK_ETAG })(view),
  '/condition/no_etag/': condition({ etag: () => null })(view),
};

async function client(path: string, headers: Record<string, string>, method = 'GET'): Promise<Response> {
  return views[path]!(new Request(`http://testserver${path}`, { method, headers }));
}

async function expectFull(response: Response, { lastModified = true, etag = true } = {}): Promise<void> {
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(FULL_RESPONSE);
  if (lastModified) expect(response.headers.get('Last-Modified')).toBe(LAST_MODIFIED_STR);
  if (etag) expect(response.headers.get('ETag')).toBe(ETAG);
}

async function expectNotModified(response: Response): Promise<void> {
  expect(response.status).toBe(304);
  expect(await response.text()).toBe('');
}

describe('ConditionalGet', () => {
  it('test_without_conditions', async () => {
    await expectFull(await client('/condition/', {}));
  });

  it('test_if_modified_since', async () => {
    const at = (date: string) => ({ 'If-Modified-Since': date });
    await expectNotModified(await client('/condition/', at(LAST_MODIFIED_STR)));
    await expectFull(await client('/condition/', at(LAST_MODIFIED_STR), 'PUT'), { lastModified: false, etag: false });
    await expectNotModified(await client('/condition/', at(LAST_MODIFIED_NEWER_STR)));
    await expectFull(await client('/condition/', at(LAST_MODIFIED_NEWER_STR), 'PUT'), { lastModified: false, etag: false });
    await expectFull(await client('/condition/', at(LAST_MODIFIED_INVALID_STR)));
    await expectFull(await client('/condition/', at(EXPIRED_LAST_MODIFIED_STR)));
  });

  it('test_if_unmodified_since', async () => {
    const at = (date: string) => ({ 'If-Unmodified-Since': date });
    await expectFull(await client('/condition/', at(LAST_MODIFIED_STR)));
    await expectFull(await client('/condition/', at(LAST_MODIFIED_NEWER_STR)));
    await expectFull(await client('/condition/', at(LAST_MODIFIED_INVALID_STR)));
    expect((await client('/condition/', at(EXPIRED_LAST_MODIFIED_STR))).status).toBe(412);
  });

  it('test_if_none_match', async () => {
    await expectNotModified(await client('/condition/', { 'If-None-Match': ETAG }));
    expect((await client('/condition/', { 'If-None-Match': ETAG }, 'PUT')).status).toBe(412);
    await expectFull(await client('/condition/', { 'If-None-Match': EXPIRED_ETAG }));
    await expectNotModified(await client('/condition/', { 'If-None-Match': `${ETAG}, ${EXPIRED_ETAG}` }));
  });

  it('test_weak_if_none_match', async () => {
    for (const tag of [ETAG, WEAK_ETAG]) {
      await expectNotModified(await client('/condition/weak_etag/', { 'If-None-Match': tag }));
      expect((await client('/condition/weak_etag/', { 'If-None-Match': tag }, 'PUT')).status).toBe(412);
    }
    await expectNotModified(await client('/condition/', { 'If-None-Match': WEAK_ETAG }));
    expect((await client('/condition/', { 'If-None-Match': WEAK_ETAG }, 'PUT')).status).toBe(412);
  });

  it('test_all_if_none_match', async () => {
    await expectNotModified(await client('/condition/', { 'If-None-Match': '*' }));
    expect((await client('/condition/', { 'If-None-Match': '*' }, 'PUT')).status).toBe(412);
    await expectFull(await client('/condition/no_etag/', { 'If-None-Match': '*' }), { lastModified: false, etag: false });
  });

  it('test_if_match', async () => {
    await expectFull(await client('/condition/', { 'If-Match': ETAG }, 'PUT'), { lastModified: false, etag: false });
    expect((await client('/condition/', { 'If-Match': EXPIRED_ETAG }, 'PUT')).status).toBe(412);
  });

  it('test_weak_if_match', async () => {
    expect((await client('/condition/weak_etag/', { 'If-Match': ETAG })).status).toBe(412);
    expect((await client('/condition/weak_etag/', { 'If-Match': WEAK_ETAG })).status).toBe(412);
    expect((await client('/condition/', { 'If-Match': WEAK_ETAG })).status).toBe(412);
  });

  it('test_all_if_match', async () => {
    await expectFull(await client('/condition/', { 'If-Match': '*' }));
    expect((await client('/condition/no_etag/', { 'If-Match': '*' })).status).toBe(412);
  });

  it('test_both_headers', async () => {
    const both = (since: string, tag: string) => ({ 'If-Modified-Since': since, 'If-None-Match': tag });
    await expectNotModified(await client('/condition/', both(LAST_MODIFIED_STR, ETAG)));
    await expectNotModified(await client('/condition/', both(EXPIRED_LAST_MODIFIED_STR, ETAG)));
    await expectFull(await client('/condition/', both(LAST_MODIFIED_STR, EXPIRED_ETAG)));
    await expectFull(await client('/condition/', both(EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG)));
  });

  it('test_both_headers_2', async () => {
    const both = (since: string, tag: string) => ({ 'If-Unmodified-Since': since, 'If-Match': tag });
    await expectFull(await client('/condition/', both(LAST_MODIFIED_STR, ETAG)));
    await expectFull(await client('/condition/', both(EXPIRED_LAST_MODIFIED_STR, ETAG)));
    expect((await client('/condition/', both(EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG))).status).toBe(412);
    expect((await client('/condition/', both(LAST_MODIFIED_STR, EXPIRED_ETAG))).status).toBe(412);
  });

  it('test_single_condition 1-9 and HEAD', async () => {
    await expectNotModified(await client('/condition/last_modified/', { 'If-Modified-Since': LAST_MODIFIED_STR }));
    await expectFull(await client('/condition/etag/', { 'If-Modified-Since': LAST_MODIFIED_STR }), { lastModified: false });
    await expectNotModified(await client('/condition/etag/', { 'If-None-Match': ETAG }));
    await expectFull(await client('/condition/last_modified/', { 'If-None-Match': ETAG }), { etag: false });
    await expectFull(await client('/condition/last_modified/', { 'If-Modified-Since': EXPIRED_LAST_MODIFIED_STR }), { etag: false });
    await expectFull(await client('/condition/etag/', { 'If-None-Match': EXPIRED_ETAG }), { lastModified: false });
    await expectNotModified(await client('/condition/last_modified2/', { 'If-Modified-Since': LAST_MODIFIED_STR }));
    await expectFull(await client('/condition/etag2/', { 'If-Modified-Since': LAST_MODIFIED_STR }), { lastModified: false });
    await expectNotModified(await client('/condition/etag2/', { 'If-None-Match': ETAG }));
    await expectFull(await client('/condition/last_modified2/', { 'If-None-Match': ETAG }), { etag: false });
    for (const path of ['/condition/last_modified/', '/condition/etag/', '/condition/last_modified2/', '/condition/etag2/']) {
      expect((await client(path, { 'If-Unmodified-Since': EXPIRED_LAST_MODIFIED_STR })).status).toBe(412);
    }
    await expectFull(await client('/condition/last_modified/', { 'If-Unmodified-Since': LAST_MODIFIED_STR }), { etag: false });
    await expectNotModified(await client('/condition/', { 'If-Modified-Since': LAST_MODIFIED_STR }, 'HEAD'));
  });

  it('test_unquoted and test_unquoted_if_none_match', async () => {
    const quoted = await client('/condition/etag/', {});
    const unquoted = await client('/condition/unquoted_etag/', {});
    expect(unquoted.headers.get('ETag')).toBe(quoted.headers.get('ETag'));
    await expectNotModified(await client('/condition/unquoted_etag/', { 'If-None-Match': ETAG }));
    expect((await client('/condition/unquoted_etag/', { 'If-None-Match': ETAG }, 'PUT')).status).toBe(412);
    await expectFull(await client('/condition/unquoted_etag/', { 'If-None-Match': EXPIRED_ETAG }), { lastModified: false });
  });

  it('test_invalid_etag', async () => {
    await expectFull(await client('/condition/etag/', { 'If-None-Match': '"""' }), { lastModified: false });
  });

  it('a 304 keeps the validators set by condition, and the view is not called', async () => {
    let calls = 0;
    const counted = condition({ etag: () => 'v1' })(() => {
      calls++;
      return new Response('x');
    });
    const response = await counted(new Request('http://testserver/', { headers: { 'If-None-Match': '"v1"' } }));
    expect(response.status).toBe(304);
    expect(response.headers.get('ETag')).toBe('"v1"');
    expect(calls).toBe(0);
  });
});

describe('getConditionalResponse', () => {
  const request = (headers: Record<string, string>) => new Request('http://testserver/', { headers });

  it('returns a non-2xx response unchanged, the full response when no condition applies, null without one', () => {
    const notFound = new Response('missing', { status: 404 });
    expect(getConditionalResponse(request({ 'If-None-Match': '*' }), { etag: '"a"', response: notFound })).toBe(notFound);
    const full = new Response('ok');
    expect(getConditionalResponse(request({}), { etag: '"a"', response: full })).toBe(full);
    expect(getConditionalResponse(request({}), { etag: '"a"' })).toBeNull();
  });

  it("a 304 carries the full response's caching headers and cookies", () => {
    const full = new Response('ok', { headers: { ETag: '"a"', 'Cache-Control': 'max-age=60', Vary: 'Cookie', 'Content-Type': 'text/plain', Expires: 'x' } });
    full.headers.append('Set-Cookie', 'a=1');
    full.headers.append('Set-Cookie', 'b=2');
    const response = getConditionalResponse(request({ 'If-None-Match': '"a"' }), { etag: '"a"', response: full })!;
    expect(response.status).toBe(304);
    const kept = [...response.headers].filter(([name]) => name !== 'set-cookie');
    expect(Object.fromEntries(kept)).toEqual({ etag: '"a"', 'cache-control': 'max-age=60', vary: 'Cookie', expires: 'x' });
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('parses and quotes entity tags as Django', () => {
    expect(parseEtags('*')).toEqual(['*']);
    expect(parseEtags(' "a", W/"b",c, "d"e"')).toEqual(['"a"', 'W/"b"']);
    expect(quoteEtag('abc')).toBe('"abc"');
    expect(quoteEtag('W/"abc"')).toBe('W/"abc"');
  });
});

describe('view decorators', () => {
  const request = () => new Request('http://testserver/');
  const plain: Handler<[]> = () => new Response('x');

  it('cacheControl, varyOnHeaders and varyOnCookie patch the response', async () => {
    const response = await cacheControl({ public: true, maxAge: 60 })(varyOnHeaders('Accept-Language')(varyOnCookie(plain)))(request());
    expect(response.headers.get('Cache-Control')).toBe('public, max-age=60');
    expect(response.headers.get('Vary')).toBe('Cookie, Accept-Language');
  });

  it('neverCache, keeping an Expires already set', async () => {
    const response = await neverCache(() => new Response('x', { headers: { Expires: 'Sun, 17 Jul 2016 10:00:00 GMT' } }))(request());
    expect(response.headers.get('Cache-Control')).toBe('max-age=0, no-cache, no-store, must-revalidate, private');
    expect(response.headers.get('Expires')).toBe('Sun, 17 Jul 2016 10:00:00 GMT');
  });

  it('patch a response whose headers are immutable by copying it', async () => {
    const response = await cacheControl({ private: true })(() => Response.redirect('http://testserver/elsewhere', 302))(request());
    expect(response.status).toBe(302);
    expect(response.headers.get('Location')).toBe('http://testserver/elsewhere');
    expect(response.headers.get('Cache-Control')).toBe('private');
  });

  it('refuse a first argument that is not a request, as Django does', async () => {
    const decorated = cacheControl({ private: true })(plain) as unknown as (value: unknown) => Promise<Response>;
    await expect(decorated({})).rejects.toThrow("cacheControl didn't receive a Request");
    await expect((neverCache(plain) as unknown as (value: unknown) => Promise<Response>)('x')).rejects.toThrow(TypeError);
  });

  it('pass the extra handler arguments through', async () => {
    const echo: Handler<[string, number]> = (_request, name, count) => new Response(`${name} ${count}`);
    expect(await (await cacheControl({ public: true })(echo)(request(), 'a', 2)).text()).toBe('a 2');
  });
});
