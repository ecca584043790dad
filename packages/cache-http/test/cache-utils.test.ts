// Django's tests/cache/tests.py: CacheUtils, PrefixedCacheUtils and the key tests of
// TestWithTemplateResponse, on the Fetch API.
import { caches, closeCaches, configureCaches } from '@cachette/cache-core';
import { LocMemCache } from '@cachette/cache-locmem';
import {
  addNeverCacheHeaders,
  getCacheKey,
  getMaxAge,
  hasVaryHeader,
  httpDate,
  learnCacheKey,
  parseHttpDate,
  patchCacheControl,
  patchResponseHeaders,
  patchVaryHeaders,
  type CacheControlDirectives,
} from '@cachette/cache-http';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';
// Django hashes '-,' for a header named in Vary that the request lacks (Debian's 3.2.25+deb12u7,
// CVE-2026-113593: an absent header and an empty one no longer share a key).
const ABSENT = '4792b9bac48c3f0441b0d9b0d7af8f2c';

function response(headers: Record<string, string> = {}): Response {
  return new Response(null, { headers });
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Request {
  return new Request(url, { method, headers });
}

afterAll(() => closeCaches());

describe('patchVaryHeaders (CacheUtils.test_patch_vary_headers)', () => {
  const table: Array<[string | null, string[], string]> = [
    [null, ['Accept-Encoding'], 'Accept-Encoding'],
    ['Accept-Encoding', ['accept-encoding'], 'Accept-Encoding'],
    ['Accept-Encoding', ['ACCEPT-ENCODING'], 'Accept-Encoding'],
    ['Cookie', ['Accept-Encoding'], 'Cookie, Accept-Encoding'],
    ['Cookie, Accept-Encoding', ['Accept-Encoding'], 'Cookie, Accept-Encoding'],
    ['Cookie, Accept-Encoding', ['Accept-Encoding', 'cookie'], 'Cookie, Accept-Encoding'],
    [null, ['Accept-Encoding', 'COOKIE'], 'Accept-Encoding, COOKIE'],
    ['Cookie,     Accept-Encoding', ['Accept-Encoding', 'cookie'], 'Cookie, Accept-Encoding'],
    ['Cookie    ,     Accept-Encoding', ['Accept-Encoding', 'cookie'], 'Cookie, Accept-Encoding'],
    ['*', ['Accept-Language', 'Cookie'], '*'],
    ['Accept-Language, Cookie', ['*'], '*'],
  ];
  it.each(table)('%j + %j = %j', (initial, names, expected) => {
    const target = response(initial === null ? {} : { Vary: initial });
    patchVaryHeaders(target, names);
    expect(target.headers.get('Vary')).toBe(expected);
  });

  it('hasVaryHeader is case- and whitespace-insensitive', () => {
    const target = response({ Vary: 'Accept-Encoding ,  * ' });
    expect(hasVaryHeader(target, 'accept-encoding')).toBe(true);
    expect(hasVaryHeader(target, '*')).toBe(true);
    expect(hasVaryHeader(target, 'Cookie')).toBe(false);
    expect(hasVaryHeader(response(), 'Cookie')).toBe(false);
  });
});

describe('patchCacheControl (CacheUtils.test_patch_cache_control)', () => {
  const table: Array<[string | null, CacheControlDirectives, string[]]> = [
    [null, { private: true }, ['private']],
    ['', { private: true }, ['private']],
    ['', { noCache: 'Set-Cookie' }, ['no-cache=Set-Cookie']],
    ['', { 'no-cache': 'Set-Cookie' }, ['no-cache=Set-Cookie']],
    ['', { no_cache: 'Set-Cookie' }, ['no-cache=Set-Cookie']],
    ['no-cache=Set-Cookie', { noCache: true }, ['no-cache']],
    ['no-cache=Set-Cookie,no-cache=Link', { noCache: true }, ['no-cache']],
    ['no-cache=Set-Cookie', { noCache: 'Link' }, ['no-cache=Set-Cookie', 'no-cache=Link']],
    ['no-cache=Set-Cookie,no-cache=Link', { noCache: 'Custom' }, ['no-cache=Set-Cookie', 'no-cache=Link', 'no-cache=Custom']],
    ['private', { private: true }, ['private']],
    ['private', { public: true }, ['public']],
    ['public', { public: true }, ['public']],
    ['public', { private: true }, ['private']],
    ['must-revalidate,max-age=60,private', { public: true }, ['must-revalidate', 'max-age=60', 'public']],
    ['must-revalidate,max-age=60,public', { private: true }, ['must-revalidate', 'max-age=60', 'private']],
    ['must-revalidate,max-age=60', { public: true }, ['must-revalidate', 'max-age=60', 'public']],
  ];
  it.each(table)('%j + %j', (initial, options, expected) => {
    const target = response(initial === null ? {} : { 'Cache-Control': initial });
    patchCacheControl(target, options);
    expect(target.headers.get('Cache-Control')!.split(', ')).toEqual(expected);
  });

  it('keeps the smaller max-age, appends new directives and writes camelCase names as directives', () => {
    const target = response({ 'Cache-Control': 'max-age=30, Public' });
    patchCacheControl(target, { maxAge: 60, sMaxage: 120, staleWhileRevalidate: 5, immutable: true, noTransform: false, mustRevalidate: undefined });
    expect(target.headers.get('Cache-Control')).toBe('max-age=30, public, s-maxage=120, stale-while-revalidate=5, immutable');
    patchCacheControl(target, { maxAge: 10 });
    expect(getMaxAge(target)).toBe(10);
  });

  it('refuses a number that is not finite', () => {
    expect(() => patchCacheControl(response(), { maxAge: Number.NaN })).toThrow(TypeError);
  });
});

describe('getMaxAge', () => {
  it.each([
    [null, null],
    ['public', null],
    ['max-age=60', 60],
    ['public, max-age=0', 0],
    ['max-age=abc', null],
    ['max-age', null],
    ['max-age=1.5', null],
  ])('%j -> %j', (header, expected) => {
    expect(getMaxAge(response(header === null ? {} : { 'Cache-Control': header }))).toBe(expected);
  });
});

describe('patchResponseHeaders and addNeverCacheHeaders', () => {
  afterEach(() => vi.useRealTimers());

  it('sets Expires from now and max-age, keeping an Expires already there', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1468749600_000);
    const fresh = patchResponseHeaders(response(), 2);
    expect(fresh.headers.get('Expires')).toBe('Sun, 17 Jul 2016 10:00:02 GMT');
    expect(fresh.headers.get('Cache-Control')).toBe('max-age=2');
    const kept = patchResponseHeaders(response({ Expires: 'Mon, 18 Jul 2016 10:00:00 GMT' }), -5);
    expect(kept.headers.get('Expires')).toBe('Mon, 18 Jul 2016 10:00:00 GMT');
    expect(kept.headers.get('Cache-Control')).toBe('max-age=0');
    expect(patchResponseHeaders(response()).headers.get('Cache-Control')).toBe('max-age=600');
  });

  it('never_cache headers (NeverCacheDecoratorTest)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1468749600_000);
    const target = addNeverCacheHeaders(response());
    expect(target.headers.get('Cache-Control')).toBe('max-age=0, no-cache, no-store, must-revalidate, private');
    expect(target.headers.get('Expires')).toBe('Sun, 17 Jul 2016 10:00:00 GMT');
  });
});

describe('HTTP dates', () => {
  it('formats and parses the three formats', () => {
    expect(httpDate(1468749602.9)).toBe('Sun, 17 Jul 2016 10:00:02 GMT');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(784111777);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(784111777);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(784111777);
  });

  it('gives null for what is not a date', () => {
    for (const text of ['', 'yesterday', 'Mon, 32 Oct 2010 16:56:23 GMT', 'Mon, 18 Xyz 2010 16:56:23 GMT', 'Mon, 18 Oct 2010 25:56:23 GMT']) {
      expect(parseHttpDate(text)).toBeNull();
    }
  });
});

// CacheUtils runs with the default cache, then PrefixedCacheUtils with KEY_PREFIX 'cacheprefix':
// the cache's own prefix never shows in the page keys.
describe.each([
  ['CacheUtils', ''],
  ['PrefixedCacheUtils', 'cacheprefix'],
])('%s', (_name, cachePrefix) => {
  const url = 'http://www.example.com/cache/test/';
  const prefix = 'settingsprefix';

  beforeEach(() => configureCaches({ default: { backend: LocMemCache, location: 'cache-utils', keyPrefix: cachePrefix } }));
  afterEach(() => caches.get().clear());

  it('test_get_cache_key', async () => {
    const request = get(url);
    expect(await getCacheKey(request, prefix)).toBeNull();
    await learnCacheKey(request, response(), undefined, prefix);
    expect(await getCacheKey(request, prefix)).toBe(`views.decorators.cache.cache_page.settingsprefix.GET.18a03f9c9649f7d684af5db3524f5c99.${EMPTY}`);
    await learnCacheKey(request, response(), undefined, 'localprefix');
    expect(await getCacheKey(request, 'localprefix')).toBe(`views.decorators.cache.cache_page.localprefix.GET.18a03f9c9649f7d684af5db3524f5c99.${EMPTY}`);
  });

  it('test_get_cache_key_with_query', async () => {
    const request = get(`${url}?test=1`);
    expect(await getCacheKey(request, prefix)).toBeNull();
    await learnCacheKey(request, response(), undefined, prefix);
    expect(await getCacheKey(request, prefix)).toBe(`views.decorators.cache.cache_page.settingsprefix.GET.beaf87a9a99ee81c673ea2d67ccbec2a.${EMPTY}`);
  });

  it('test_cache_key_varies_by_url', async () => {
    const first = get('http://sub-1.example.com/cache/test/');
    const second = get('http://sub-2.example.com/cache/test/');
    await learnCacheKey(first, response(), undefined, prefix);
    await learnCacheKey(second, response(), undefined, prefix);
    expect(await getCacheKey(first, prefix)).not.toBe(await getCacheKey(second, prefix));
  });

  it('test_learn_cache_key: a HEAD learns the header list, GET keys hash the varying headers', async () => {
    const request = get(url, {}, 'HEAD');
    const learnt = await learnCacheKey(request, response({ Vary: 'Pony' }), undefined, prefix);
    expect(learnt).toBe(`views.decorators.cache.cache_page.settingsprefix.HEAD.18a03f9c9649f7d684af5db3524f5c99.${ABSENT}`);
    expect(await getCacheKey(request, prefix)).toBe(`views.decorators.cache.cache_page.settingsprefix.GET.18a03f9c9649f7d684af5db3524f5c99.${ABSENT}`);
  });

  it('keys of requests differing only in a varying header differ, also between absent and empty', async () => {
    const vary = response({ Vary: 'Accept-Encoding' });
    const keys = new Set<string>();
    for (const headers of [{}, { 'Accept-Encoding': '' }, { 'Accept-Encoding': 'gzip' }] as Record<string, string>[]) {
      keys.add(await learnCacheKey(get(url, headers), vary, undefined, prefix));
    }
    expect(keys.size).toBe(3);
  });

  it('stores the header list in the chosen cache, for the timeout', async () => {
    const other = new LocMemCache({ location: 'cache-utils-other' });
    const request = get(url);
    await learnCacheKey(request, response({ Vary: 'Cookie, Accept-Encoding' }), 30, prefix, other);
    expect(await getCacheKey(request, prefix)).toBeNull();
    expect(await other.get('views.decorators.cache.cache_header.settingsprefix.18a03f9c9649f7d684af5db3524f5c99')).toEqual(['HTTP_ACCEPT_ENCODING', 'HTTP_COOKIE']);
    await other.clear();
  });
});

describe('TestWithTemplateResponse keys (host testserver)', () => {
  beforeEach(() => configureCaches({ default: { backend: LocMemCache, location: 'template-response' } }));
  afterEach(() => caches.get().clear());

  it('test_get_cache_key', async () => {
    const request = get('http://testserver/cache/test/');
    await learnCacheKey(request, response(), undefined, 'settingsprefix');
    expect(await getCacheKey(request, 'settingsprefix')).toBe(`views.decorators.cache.cache_page.settingsprefix.GET.58a0a05c8a5620f813686ff969c26853.${EMPTY}`);
  });

  it('test_get_cache_key_with_query', async () => {
    const request = get('http://testserver/cache/test/?test=1');
    await learnCacheKey(request, response(), undefined, 'settingsprefix');
    expect(await getCacheKey(request, 'settingsprefix')).toBe(`views.decorators.cache.cache_page.settingsprefix.GET.0f1c2d56633c943073c4569d9a9502fe.${EMPTY}`);
  });
});

describe('CacheI18nTest keys', () => {
  const url = 'http://testserver/cache/test/';
  beforeEach(() => configureCaches({ default: { backend: LocMemCache, location: 'i18n' } }));
  afterEach(() => caches.get().clear());

  it('test_cache_key_i18n_translation: the language ends the key, and get finds it', async () => {
    const options = { language: () => 'en' };
    const key = await learnCacheKey(get(url), response(), undefined, 'settingsprefix', undefined, options);
    expect(key.endsWith('.en')).toBe(true);
    expect(await getCacheKey(get(url), 'settingsprefix', 'GET', undefined, options)).toBe(key);
  });

  it('test_cache_key_i18n_translation_accept_language: Accept-Language in Vary never changes the key', async () => {
    const options = { language: () => 'en' };
    const encoding = { 'Accept-Encoding': 'gzip;q=1.0, identity; q=0.5, *;q=0' };
    const cases: Array<[string, string]> = [
      ['en-us', 'cookie, accept-language, accept-encoding'],
      ['en-US', 'cookie, accept-encoding, accept-language'],
      ['en-US,en;q=0.8', 'accept-encoding, accept-language, cookie'],
      ['en-US,en;q=0.8,ko;q=0.6', 'accept-language, cookie, accept-encoding'],
      ['ko-kr,ko;q=0.8,en-us;q=0.5,en;q=0.3 ', 'accept-encoding, cookie, accept-language'],
      ['ko-KR,ko;q=0.8,en-US;q=0.6,en;q=0.4', 'accept-language, accept-encoding, cookie'],
      ['ko;q=1.0,en;q=0.5', 'cookie, accept-language, accept-encoding'],
      ['ko, en', 'cookie, accept-encoding, accept-language'],
      ['ko-KR, en-US', 'accept-encoding, accept-language, cookie'],
    ];
    const reference = await learnCacheKey(get(url, encoding), response({ Vary: 'cookie, accept-encoding' }), undefined, '', undefined, options);
    expect(reference.endsWith('.en')).toBe(true);
    for (const [acceptLanguage, vary] of cases) {
      const request = get(url, { ...encoding, 'Accept-Language': acceptLanguage });
      expect(await learnCacheKey(request, response({ Vary: vary }), undefined, '', undefined, options)).toBe(reference);
      expect(await getCacheKey(request, '', 'GET', undefined, options)).toBe(reference);
    }
  });

  it('test_cache_key_i18n_timezone and test_cache_key_no_i18n', async () => {
    const withZone = await learnCacheKey(get(url), response(), undefined, '', undefined, { timeZone: () => 'America/Chicago' });
    expect(withZone.endsWith('.America/Chicago')).toBe(true);
    const plain = await learnCacheKey(get(url), response());
    expect(plain).toBe(`views.decorators.cache.cache_page..GET.58a0a05c8a5620f813686ff969c26853.${EMPTY}`);
  });
});
