// Differential tests against the real Django (Debian's python3-django): the same raw HTTP/1.1
// requests go to test/django/site.py and to a node:http server built on cache-http whose routes
// mirror it, and the page cache keys, patched headers and conditional responses must be equal.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { caches, closeCaches, configureCaches } from '@cachette/cache-core';
import { LocMemCache } from '@cachette/cache-locmem';
import {
  PageKeys,
  absoluteUri,
  condition,
  getCacheKey,
  hostDomain,
  isAllowedHost,
  learnCacheKey,
  patchCacheControl,
  patchVaryHeaders,
  requestHost,
  type CacheControlDirectives,
  type CacheKeyOptions,
  type RequestLike,
} from '@cachette/cache-http';
import { requestView, toNodeListener } from '@cachette/cache-http/node';
import { djangoSkipReason, seededRandom, startDjangoSite, type DjangoSite } from '@cachette/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValue, sendRaw, type RawHeader, type RawRequest, type RawResponse } from './django/raw-http';

// ---- what X-Case carries (see site.py) ---------------------------------------------------------

interface KeysSpec {
  vary?: string | null;
  prefix?: string;
  language?: string;
  timeZone?: string;
}

interface ConditionSpec {
  etag?: string;
  /** Epoch seconds. */
  lastModified?: number;
}

type CacheControlCase = [initial: string | null, kwargs: Record<string, string | number | true>];
type VaryCase = [initial: string | null, names: string[]];

interface HeadersSpec {
  cacheControl?: CacheControlCase[];
  vary?: VaryCase[];
}

/** The patched values, one per case. */
interface PatchedHeaders {
  cacheControl: Array<string | null>;
  vary: Array<string | null>;
}

/** JSON with every non-ASCII character escaped, so the header's bytes are the same to both servers. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function caseOf<T>(request: Request): T {
  return JSON.parse(request.headers.get('x-case') ?? '{}') as T;
}

// ---- the Node mirror of site.py --------------------------------------------------------------

/** What /keys answers: the four values, or why computing them threw. */
type Keys = { uri: string; headerKey: string; learnt: string; got: string | null } | { error: string };

async function pageKeys(request: RequestLike, spec: KeysSpec): Promise<Keys> {
  const options: CacheKeyOptions = {};
  if (spec.language !== undefined) options.language = () => spec.language!;
  if (spec.timeZone !== undefined) options.timeZone = () => spec.timeZone!;
  const prefix = spec.prefix ?? '';
  const response = new Response(null, { headers: spec.vary === undefined || spec.vary === null ? {} : { Vary: spec.vary } });
  try {
    const cache = caches.get('default');
    await cache.clear();
    const learnt = await learnCacheKey(request, response, 60, prefix, cache, options);
    const got = await getCacheKey(request, prefix, request.method, cache, options);
    return { uri: absoluteUri(request), headerKey: new PageKeys(request, prefix, options).headerKey, learnt, got };
  } catch (error) {
    return { error: String(error) };
  }
}

/** The keys of the Fetch `Request` (`toRequest`) in `X-Keys`, and of the hit path's `requestView` in `X-View-Keys`. */
async function keysView(request: Request, incoming: IncomingMessage): Promise<Response> {
  const spec = caseOf<KeysSpec>(request);
  // Django's get_host() raises DisallowedHost (a 400) when the host is malformed or not allowed.
  const domain = hostDomain(requestHost(request));
  if (domain === '' || !isAllowedHost(domain, ['*'])) return new Response('Bad Request (400)', { status: 400 });
  const keys = await pageKeys(request, spec);
  const viewKeys = await pageKeys(requestView(incoming), spec);
  return new Response(null, { headers: { 'X-Keys': asciiJson(keys), 'X-View-Keys': asciiJson(viewKeys) } });
}

function conditionView(request: Request): Response | Promise<Response> {
  const spec = caseOf<ConditionSpec>(request);
  const view = condition({
    etag: () => spec.etag ?? null,
    lastModified: () => (spec.lastModified ? spec.lastModified * 1000 : null),
  })(() => new Response('full body'));
  return view(request);
}

function patched(name: string, initial: string | null, patch: (response: Response) => void): string | null {
  const response = new Response(null, { headers: initial === null ? {} : { [name]: initial } });
  patch(response);
  return response.headers.get(name);
}

function headersView(request: Request): Response {
  const spec = caseOf<HeadersSpec>(request);
  const values: PatchedHeaders = {
    cacheControl: (spec.cacheControl ?? []).map(([initial, kwargs]) =>
      patched('Cache-Control', initial, (response) => patchCacheControl(response, kwargs as CacheControlDirectives)),
    ),
    vary: (spec.vary ?? []).map(([initial, names]) => patched('Vary', initial, (response) => patchVaryHeaders(response, names))),
  };
  return Response.json(values);
}

type View = (request: Request, incoming: IncomingMessage) => Response | Promise<Response>;

/** site.py's urlpatterns, on the raw target (the tests never percent-encode these route names). */
function route(target: string): View {
  const path = target.split('?')[0]!;
  if (path === '/headers') return headersView;
  if (path.startsWith('/condition/')) return conditionView;
  return keysView;
}

function startMirror(): Promise<Server> {
  const server = createServer(toNodeListener((request, incoming) => route(incoming.url ?? '/')(request, incoming)));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- sending one request to both ---------------------------------------------------------------

let django: DjangoSite;
let mirror: Server;

async function toBoth(request: RawRequest): Promise<{ django: RawResponse; ours: RawResponse }> {
  const ourPort = (mirror.address() as AddressInfo).port;
  const [theirs, ours] = await Promise.all([sendRaw(django.port, request), sendRaw(ourPort, request)]);
  return { django: theirs, ours };
}

function withCase(spec: unknown, headers: readonly RawHeader[]): RawHeader[] {
  return [...headers, ['X-Case', asciiJson(spec)]];
}

// ---- /keys: page cache keys --------------------------------------------------------------------

interface KeysCase {
  target: string;
  method?: 'GET' | 'HEAD';
  /** `Host`; default `www.example.com` (Django's CacheUtils host). */
  host?: string;
  headers?: RawHeader[];
  spec?: KeysSpec;
  /** The status Django answers (default 200): 400 when it refuses the host. */
  status?: number;
}

function keysRequest({ target, method = 'GET', host = 'www.example.com', headers = [], spec = {} }: KeysCase): RawRequest {
  return { method, target, headers: withCase(spec, [['Host', host], ...headers]) };
}

/** The status and, on a 200, the four keys (from a header: HEAD responses carry those too). */
function keysOutcome(response: RawResponse, header = 'X-Keys'): Record<string, unknown> {
  const keys = headerValue(response, header);
  return { status: response.status, ...(response.status === 200 && keys !== null ? (JSON.parse(keys) as object) : {}) };
}

function describeKeysCase(keysCase: KeysCase): string {
  const { target, method = 'GET', host = 'www.example.com', headers = [], spec = {} } = keysCase;
  const sent = headers.map(([name, value]) => `${name}: ${JSON.stringify(value)}`).join(', ');
  return `${method} ${JSON.stringify(target)} Host ${JSON.stringify(host)}${sent ? ` [${sent}]` : ''} ${asciiJson(spec)}`;
}

async function expectSameKeys(keysCase: KeysCase): Promise<void> {
  const { django: theirs, ours } = await toBoth(keysRequest(keysCase));
  expect(theirs.status, 'Django answers').toBe(keysCase.status ?? 200);
  const expected = keysOutcome(theirs);
  expect({ toRequest: keysOutcome(ours), requestView: keysOutcome(ours, 'X-View-Keys') }).toEqual({ toRequest: expected, requestView: expected });
}

const CACHE_UTILS_URLS = ['/cache/test/', '/cache/test/?test=1'];
const PREFIXES = ['', 'localprefix', 'settingsprefix'];

const VARY_VALUES = [
  null,
  'Pony',
  'Accept-Encoding, Cookie',
  'Cookie, Accept-Encoding',
  'Accept-Encoding,Cookie',
  'Accept-Encoding ,   Cookie',
  'accept-encoding, COOKIE',
  'Content-Type',
  'Content-Length',
  'Content-Type, Content-Length, Pony',
  'Pony, pony, PONY',
  'Cookie, Cookie',
  'Accept_Encoding',
  '',
  'Pony,,Cookie',
  'Pony,',
  '*',
  'Accept-Encoding Cookie',
];

const REQUEST_HEADER_SETS: RawHeader[][] = [
  [],
  [['Accept-Encoding', 'gzip, deflate'], ['Cookie', 'a=1; b=2']],
  [['Accept-Encoding', ''], ['Cookie', '']],
  [['Pony', 'yes'], ['pony', 'no']],
  [['Content-Type', 'text/plain'], ['Content-Length', '0'], ['Pony', '']],
  [['Cookie', 'a=1'], ['Cookie', 'b=2'], ['Accept-Encoding', 'gzip'], ['Accept-Encoding', 'br']],
  [['Accept-Encoding', '  gzip  '], ['Cookie', 'caf\u00e9=\u00e9t\u00e9']],
  // Obs-text inside values (at either end, Python's str.strip() in wsgiref drops NBSP and NEL: a server quirk).
  [['Cookie', 'a=\u00a0b'], ['Pony', 'x\u0085y']],
];

const LANGUAGES: KeysSpec[] = [{ language: 'en' }, { language: 'es' }, { timeZone: 'UTC' }, { timeZone: 'Europe/Paris' }, { language: 'fr', timeZone: 'America/New_York' }];
const LANGUAGE_VARY = [null, 'Accept-Language', 'Accept-Language, Cookie', 'Cookie, accept-language'];

const HOSTS: Array<[host: string, status?: number]> = [
  ['www.example.com:8000'],
  ['WWW.Example.COM'],
  ['Example.COM:8080'],
  ['localhost'],
  ['127.0.0.1:8000'],
  ['[::1]:8000'],
  ['[2001:DB8::1]'],
  ['example.com.'],
  ['www.example.com:80'],
  ['exa_mple.com', 400],
  ['example.com:abc', 400],
  ['bad host', 400],
  ['', 400],
  ['h\u00e9llo.example', 400],
  ['user@www.example.com', 400],
  ['www.example.com:', 400],
  ['[::1', 400],
];

const PATHS = [
  '/',
  '/a%20b/',
  '/%E2%99%A5/',
  '/caf%C3%A9?q=caf%C3%A9',
  '/%zz/',
  '/%ff/',
  '/%E2%99/',
  '/%C3%28/',
  '/%2F/a%2fb',
  '/%25/%2525',
  '/a;b=c/',
  '/@!$\'()*+,~/',
  '/a&b:c/',
  '/a/../b',
  '/a/./b',
  '/a/..',
  '/a/.',
  '/./a',
  '/../a',
  '/a/b/../../../c',
  '/a//b/../c',
  '/a/%2E%2E/b',
  '/a/../b?x=/../',
  '//x',
  '///x/y',
  '/p?',
  '/p??',
  '/p?a=1&b=2',
  '/p?q=a+b',
  '/p?q=a%20b',
  '/p?q=\'quoted\'',
  '/p?q="dq"',
  '/"dq"/',
  '/p#frag',
  '/p?q#frag',
  '/a/../b?#frag',
  '/a/./b?q#',
  '/[x]/?[y]',
  '/{x}/?{y}',
  '/a|b^c`d/?|^`',
  '/a\\b/?c\\d',
  '/<x>/?<y>',
  '/p?q=%E2%99%A5&r=%ff&s=%zz',
  '/p?%',
  '/%',
  '/~user/file.html',
];

function keysCases(): Array<[string, KeysCase]> {
  const cases: KeysCase[] = [];
  for (const target of CACHE_UTILS_URLS) {
    for (const prefix of PREFIXES) for (const method of ['GET', 'HEAD'] as const) cases.push({ target, method, spec: { prefix } });
  }
  for (const vary of VARY_VALUES) for (const headers of REQUEST_HEADER_SETS) cases.push({ target: '/cache/test/', headers, spec: { vary } });
  for (const spec of LANGUAGES) {
    for (const vary of LANGUAGE_VARY) cases.push({ target: '/cache/test/?test=1', headers: [['Accept-Language', 'de'], ['Cookie', 'x=1']], spec: { ...spec, vary, prefix: 'p' } });
  }
  for (const [host, status] of HOSTS) cases.push({ target: '/cache/test/', host, status });
  // Two Host headers: the WSGI server joins them (`a,b`), which Django refuses.
  cases.push({ target: '/cache/test/', headers: [['Host', 'other.example']], status: 400 });
  // Node keeps only the first User-Agent in IncomingMessage.headers (what requestView reads).
  cases.push({ target: '/cache/test/', headers: [['User-Agent', 'a'], ['User-Agent', 'b']], spec: { vary: 'User-Agent' } });
  for (const target of PATHS) for (const method of ['GET', 'HEAD'] as const) cases.push({ target, method, spec: { vary: 'Cookie' } });
  return cases.map((keysCase) => [describeKeysCase(keysCase), keysCase]);
}

// ---- fuzzed request targets ---------------------------------------------------------------------


// Printable ASCII but space: every byte Node's parser takes in a request target.
const TARGET_ALPHABET = Array.from({ length: 0x7e - 0x20 }, (_, index) => String.fromCharCode(0x21 + index)).join('');
// Weighted towards what makes paths interesting.
const TARGET_PIECES = [...TARGET_ALPHABET, '/', '/', '.', '..', '/./', '/../', '?', '%', '%2F', '%2E', '%C3%A9', '%E2%99%A5', '%F0%9F%92%A9', '%C3', '%80'];

function randomTarget(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const pieces = Array.from({ length: 1 + Math.floor(random() * 16) }, () =>
    random() < 0.15 ? `%${Math.floor(random() * 256).toString(16).padStart(2, '0')}` : pick(TARGET_PIECES),
  );
  return `/${pieces.join('')}`;
}

/** Distinct targets that route to the keys view on both servers. */
function fuzzedTargets(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const targets = new Set<string>();
  while (targets.size < count) {
    const target = randomTarget(random);
    if (!/^\/(condition\/|headers(\?|$))/.test(target)) targets.add(target);
  }
  return [...targets];
}

// ---- /headers: Cache-Control and Vary ------------------------------------------------------------

// CacheUtils.test_patch_cache_control, and a few more.
const CACHE_CONTROL_CASES: CacheControlCase[] = [
  [null, { private: true }],
  ['', { private: true }],
  ['', { no_cache: 'Set-Cookie' }],
  ['no-cache=Set-Cookie', { no_cache: true }],
  ['no-cache=Set-Cookie,no-cache=Link', { no_cache: true }],
  ['no-cache=Set-Cookie', { no_cache: 'Link' }],
  ['private', { public: true }],
  ['public', { private: true }],
  ['must-revalidate,max-age=60,private', { public: true }],
  ['max-age=60', { max_age: 30 }],
  ['max-age=30', { max_age: 60 }],
  ['max-age=30, s-maxage=10', { max_age: 60, s_maxage: 5 }],
  ['', { max_age: 0, no_store: true, must_revalidate: true }],
  ['Public, Max-Age=5', { max_age: 10 }],
  // Beyond Django's table.
  ['no-cache', { no_cache: 'Set-Cookie' }],
  ['no-cache=Set-Cookie, max-age=5', { no_cache: 'Link', no_cache_extra: 'x' }],
  ['private="Set-Cookie", max-age=3', { public: true, stale_while_revalidate: 30 }],
  ['NO-STORE,Must-Revalidate', { no_store: true, max_age: 1 }],
  ['max-age=10', { max_age: -5 }],
  ['a=1,b,c=3', { b: 'x', d: true }],
];

// CacheUtils.test_patch_vary_headers, and a few more.
const VARY_CASES: VaryCase[] = [
  [null, ['Accept-Encoding']],
  ['Accept-Encoding', ['accept-encoding']],
  ['Cookie', ['Accept-Encoding']],
  ['Cookie    ,     Accept-Encoding', ['Accept-Encoding', 'cookie']],
  [null, ['Accept-Encoding', 'COOKIE']],
  ['*', ['Accept-Language', 'Cookie']],
  ['Accept-Language, Cookie', ['*']],
  [null, ['X', 'x']],
  // Beyond Django's table.
  ['Accept-Encoding', ['ACCEPT-ENCODING']],
  ['Cookie, Accept-Encoding', ['Accept-Encoding']],
  ['Cookie,     Accept-Encoding', ['Accept-Encoding', 'cookie']],
  [null, []],
  ['Cookie', []],
  ['', ['Cookie']],
  ['Cookie,', ['Accept']],
  ['Cookie,,Accept', ['accept', 'Origin']],
];

function headersRequest(spec: HeadersSpec): RawRequest {
  return { method: 'GET', target: '/headers', headers: withCase(spec, [['Host', 'www.example.com']]) };
}

const isNoCache = (field: string) => field === 'no-cache' || field.startsWith('no-cache=');

/**
 * A Cache-Control value as an ordered list, except that Django keeps `no-cache` field names in a
 * set (arbitrary order): those are one `no-cache…` entry in the list, and compared as a set.
 */
function cacheControlShape(value: string | null): { order: string[]; noCache: string[] } | null {
  if (value === null) return null;
  const fields = value === '' ? [] : value.split(', ');
  const order = fields.map((field) => (isNoCache(field) ? 'no-cache…' : field)).filter((field, index, all) => field !== 'no-cache…' || all[index - 1] !== field);
  return { order, noCache: fields.filter(isNoCache).sort() };
}

async function patchedHeaders(spec: HeadersSpec): Promise<{ django: PatchedHeaders; ours: PatchedHeaders }> {
  const { django: theirs, ours } = await toBoth(headersRequest(spec));
  expect(theirs.status, 'Django answers').toBe(200);
  expect(ours.status).toBe(200);
  const parse = (response: RawResponse) => JSON.parse(response.body.toString('utf8')) as PatchedHeaders;
  return { django: parse(theirs), ours: parse(ours) };
}

// ---- /condition/: conditional responses ---------------------------------------------------------

const LAST_MODIFIED = 1193008907; // Sun, 21 Oct 2007 23:21:47 GMT
const ETAGS = ['"abc"', 'abc', 'W/"abc"', undefined];
const LAST_MODIFIEDS = [LAST_MODIFIED, undefined];
const ETAG_HEADER_VALUES = ['"abc"', 'W/"abc"', '"other"', '*', '"abc", "other"', '"""'];
const DATE_HEADER_VALUES = [
  'Sun, 21 Oct 2007 23:21:47 GMT',
  'Sat, 20 Oct 2007 23:21:47 GMT',
  'Thu, 21 Oct 2027 23:21:47 GMT',
  'Mon, 32 Oct 2010 16:56:23 GMT',
  'Sunday, 21-Oct-07 23:21:47 GMT',
  'Sun Oct 21 23:21:47 2007',
];
const CONDITIONAL_METHODS = ['GET', 'HEAD', 'PUT', 'POST'];

function conditionHeaderSets(): RawHeader[][] {
  const etagHeaders = ['If-None-Match', 'If-Match'].flatMap((name) => ETAG_HEADER_VALUES.map((value): RawHeader => [name, value]));
  const dateHeaders = ['If-Modified-Since', 'If-Unmodified-Since'].flatMap((name) => DATE_HEADER_VALUES.map((value): RawHeader => [name, value]));
  return [[], ...etagHeaders.map((header) => [header]), ...dateHeaders.map((header) => [header]), ...etagHeaders.flatMap((etag) => dateHeaders.map((date) => [etag, date]))];
}

interface ConditionCase {
  method: string;
  spec: ConditionSpec;
  headers: RawHeader[];
}

function conditionCases(): Array<[string, ConditionCase]> {
  const cases: Array<[string, ConditionCase]> = [];
  for (const etag of ETAGS) {
    for (const lastModified of LAST_MODIFIEDS) {
      for (const headers of conditionHeaderSets()) {
        for (const method of CONDITIONAL_METHODS) {
          const spec: ConditionSpec = { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) };
          const sent = headers.map(([name, value]) => `${name}: ${value}`).join(', ') || 'no preconditions';
          cases.push([`${method} ${asciiJson(spec)} [${sent}]`, { method, spec, headers }]);
        }
      }
    }
  }
  return cases;
}

function conditionalOutcome(response: RawResponse) {
  return {
    status: response.status,
    etag: headerValue(response, 'ETag'),
    lastModified: headerValue(response, 'Last-Modified'),
    body: response.body.toString('utf8'),
  };
}

// ---- requests Node's HTTP parser refuses, which Django's server takes ----------------------------

const NODE_REFUSES: Array<[string, RawRequest]> = [
  ['a raw non-ASCII octet in the target', { method: 'GET', target: '/caf\u00e9', headers: [['Host', 'www.example.com']] }],
  ['raw UTF-8 in the target', { method: 'GET', target: '/\u00e2\u0099\u00a5', headers: [['Host', 'www.example.com']] }],
  ['no Host header on HTTP/1.1', { method: 'GET', target: '/cache/test/' }],
  ['a control character in a header value', { method: 'GET', target: '/cache/test/', headers: [['Host', 'www.example.com'], ['Cookie', 'a\u000cb']] }],
];

// ---- the suites ------------------------------------------------------------------------------------

const skipReason = djangoSkipReason();

describe.skipIf(skipReason)(`cache-http against the real Django${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    configureCaches({ default: { backend: LocMemCache, location: 'django-differential' } });
    [django, mirror] = await Promise.all([startDjangoSite(fileURLToPath(new URL('./django/site.py', import.meta.url))), startMirror()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([django?.stop(), mirror && new Promise((resolve) => mirror.close(resolve)), closeCaches()]);
  });

  it('is Django 3.2', () => {
    expect(django.version).toMatch(/^3\.2\./);
  });

  describe('page cache keys: uri, header key, learn_cache_key, get_cache_key', () => {
    it.each(keysCases())('%s', async (_name, keysCase) => expectSameKeys(keysCase));
  });

  describe('page cache keys of fuzzed request targets (seed 20240611)', () => {
    it.each(fuzzedTargets(300, 20240611))('GET %j', async (target) => expectSameKeys({ target, spec: { vary: 'Cookie', prefix: 'fuzz' } }));
  });

  describe('patch_cache_control', () => {
    it.each(CACHE_CONTROL_CASES)('%j patched with %j', async (initial, kwargs) => {
      const { django: theirs, ours } = await patchedHeaders({ cacheControl: [[initial, kwargs]] });
      expect(cacheControlShape(ours.cacheControl[0] ?? null)).toEqual(cacheControlShape(theirs.cacheControl[0] ?? null));
    });
  });

  describe('patch_vary_headers', () => {
    it.each(VARY_CASES)('%j patched with %j', async (initial, names) => {
      const { django: theirs, ours } = await patchedHeaders({ vary: [[initial, names]] });
      expect(ours.vary).toEqual(theirs.vary);
    });
  });

  describe('condition(): status, ETag, Last-Modified, body', () => {
    it.each(conditionCases())('%s', async (_name, { method, spec, headers }) => {
      const request: RawRequest = { method, target: '/condition/', headers: withCase(spec, [['Host', 'www.example.com'], ...headers]) };
      if (method === 'PUT' || method === 'POST') request.body = '';
      const { django: theirs, ours } = await toBoth(request);
      expect([200, 304, 412], 'Django answers').toContain(theirs.status);
      expect(conditionalOutcome(ours)).toEqual(conditionalOutcome(theirs));
    });
  });

  describe("requests Node's HTTP server refuses (400) and Django serves", () => {
    it.each(NODE_REFUSES)('%s', async (_name, request) => {
      const { django: theirs, ours } = await toBoth(request);
      expect(theirs.status).toBe(200);
      expect(ours.status).toBe(400);
    });
  });
});
