import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DummyCache } from './dummy-cache';
import { InvalidCacheBackendError, UnknownCacheOptionError } from './errors';
import { MapCache } from './test-map-cache';
import { cache, caches, closeCaches, configureCaches, createCache, resolveCacheSetting } from './registry';
import { commonParamsFromUrl, parseCacheUrl, registerCacheScheme } from './urls';

class ClosingCache extends DummyCache {
  closed = 0;
  override async close() {
    this.closed++;
  }
}

/** An application directory with its own modules, as a user's project would have. */
const applications: string[] = [];
function applicationWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cachette-app-'));
  applications.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const DUCK_BACKEND = `
class Base { makeAndValidateKey() {} }
exports.FileLikeCache = class FileLikeCache extends Base { constructor(params) { super(); this.params = params; } };
`;

afterAll(() => {
  for (const dir of applications) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await closeCaches();
  configureCaches({});
});

describe('createCache', () => {
  it('builds from a configuration object', async () => {
    const created = await createCache({ backend: DummyCache, keyPrefix: 'p', version: 3, timeout: null });
    expect(created).toBeInstanceOf(DummyCache);
    expect(created.makeKey('k')).toBe('p:3:k');
    expect(created.defaultTimeout).toBeNull();
  });

  it('builds from a URL, reading the common parameters', async () => {
    const created = await createCache('dummy://?timeout=60&key_prefix=site&version=2');
    expect(created).toBeInstanceOf(DummyCache);
    expect(created.defaultTimeout).toBe(60);
    expect(created.makeKey('k')).toBe('site:2:k');
  });

  it('resolves a module specifier from the application, not from cache-core', async () => {
    const app = applicationWith({ 'my-cache.cjs': DUCK_BACKEND });
    const created = (await createCache({ backend: './my-cache.cjs', location: 'here' }, { resolveFrom: app })) as unknown as {
      params: unknown;
    };
    expect(created.params).toEqual({ location: 'here' });
    const named = await createCache({ backend: './my-cache.cjs#FileLikeCache' }, { resolveFrom: app });
    expect(named.constructor.name).toBe('FileLikeCache');
  });

  it('explains a backend it cannot find or choose', async () => {
    registerCacheScheme('absent', 'cachette-backend-not-installed');
    await expect(createCache('absent://x', { resolveFrom: tmpdir() })).rejects.toThrow(
      /Could not find backend 'cachette-backend-not-installed'/,
    );
    const app = applicationWith({ 'two.cjs': `${DUCK_BACKEND}\nexports.Other = exports.FileLikeCache;` });
    await expect(createCache({ backend: './two.cjs' }, { resolveFrom: app })).rejects.toThrow(/name the class as/);
    await expect(createCache({ backend: './two.cjs#Nope' }, { resolveFrom: app })).rejects.toThrow(/no cache class exported as 'Nope'/);
    await expect(createCache('gopher://x')).rejects.toThrow(InvalidCacheBackendError);
    await expect(createCache('not a url')).rejects.toThrow(InvalidCacheBackendError);
  });

  it('uses schemes registered by the application', async () => {
    registerCacheScheme('null', DummyCache);
    expect(await createCache('null://')).toBeInstanceOf(DummyCache);
  });
});

describe('caches', () => {
  it('gives one instance per alias', () => {
    configureCaches({ default: 'dummy://', other: { backend: DummyCache, keyPrefix: 'o' } });
    expect(caches.get('default')).toBe(caches.get('default'));
    expect(caches.get()).toBe(caches.get('default'));
    expect(caches.get('other')).not.toBe(caches.get('default'));
    expect(caches.get('other').keyPrefix).toBe('o');
  });

  it("rejects an unknown alias with Django's message", () => {
    configureCaches({ default: 'dummy://' });
    expect(() => caches.get('nonexistent')).toThrow(InvalidCacheBackendError);
    expect(() => caches.get('nonexistent')).toThrow("The connection 'nonexistent' doesn't exist.");
  });

  it('closes only the caches it created', async () => {
    configureCaches({ default: { backend: ClosingCache }, unused: { backend: ClosingCache } });
    const used = caches.get('default') as ClosingCache;
    expect(caches.all({ initializedOnly: true })).toEqual([used]);
    await closeCaches();
    expect(used.closed).toBe(1);
    expect(caches.all({ initializedOnly: true })).toEqual([]);
  });

  it('lists every alias, creating them', () => {
    configureCaches({ default: 'dummy://', b: 'dummy://' });
    expect(caches.all()).toHaveLength(2);
  });

  it('serves the default alias through `cache`', async () => {
    configureCaches({ default: { backend: DummyCache, keyPrefix: 'd' } });
    expect(cache.keyPrefix).toBe('d');
    expect(await cache.add('k', 1)).toBe(true);
    expect(cache.makeKey('k')).toBe('d:1:k');
  });
});

describe('cache URLs', () => {
  it('take the location from the body and options from the query', () => {
    expect(commonParamsFromUrl(parseCacheUrl('locmem://sessions?max_entries=1000&cull_frequency=0&timeout=none'))).toEqual({
      location: 'sessions',
      timeout: null,
      options: { maxEntries: 1000, cullFrequency: 0 },
    });
    expect(commonParamsFromUrl(parseCacheUrl('file:///var/tmp/cache%20dir')).location).toBe('/var/tmp/cache dir');
    expect(parseCacheUrl('memcached://h1:11211,h2:11211?protocol=binary')).toMatchObject({
      scheme: 'memcached',
      body: 'h1:11211,h2:11211',
    });
    expect(parseCacheUrl('sqlite://:memory:').body).toBe(':memory:');
  });
});

describe('resolveCacheSetting', () => {
  it('gives the backend class and its parameters, a URL read by the backend, without constructing it', () => {
    const resolved = resolveCacheSetting('dummy://?timeout=60&key_prefix=site');
    expect(resolved.backend).toBe(DummyCache);
    expect(resolved.params).toMatchObject({ timeout: 60, keyPrefix: 'site' });
    expect(resolveCacheSetting({ backend: DummyCache, location: 'x', options: { a: 1 } })).toEqual({ backend: DummyCache, params: { location: 'x', options: { a: 1 } } });
  });
});

describe('settings with unknown names', () => {
  it('refuses an unknown key of a configuration object, before loading its backend', async () => {
    const setting = { backend: 'cachette-backend-not-installed', location: 'x', timout: 5 };
    const message = "Unknown key 'timout' in a cache setting (did you mean 'timeout'?). Known keys: backend, location, timeout, keyPrefix, version, keyFunction, options, stats";
    expect(() => resolveCacheSetting(setting)).toThrow(UnknownCacheOptionError);
    expect(() => resolveCacheSetting(setting)).toThrow(message);
    await expect(createCache(setting)).rejects.toThrow(message);
    configureCaches({ default: setting });
    expect(() => caches.get()).toThrow(UnknownCacheOptionError);
  });

  it("refuses an unknown query parameter of a URL, naming the backend's known ones", async () => {
    await expect(createCache('dummy://?tmeout=5')).rejects.toThrow(
      "Unknown query parameter 'tmeout' in the cache URL 'dummy://?tmeout=5' (did you mean 'timeout'?). Known query parameters: timeout, key_prefix, version, stats",
    );
    expect(() => resolveCacheSetting('dummy://?max_entries=5')).toThrow(UnknownCacheOptionError);
  });

  it('refuses options the dummy backend does not take, through every way of configuring it', async () => {
    await expect(createCache({ backend: DummyCache, options: { maxEntriez: 5 } })).rejects.toThrow("Unknown option 'maxEntriez' for DummyCache. Known options: none");
    configureCaches({ default: { backend: DummyCache, options: { maxEntries: 5 } } });
    expect(() => caches.get()).toThrow(UnknownCacheOptionError);
  });

  it('leaves the options and URLs of a backend that declares no knownOptions unchecked', async () => {
    registerCacheScheme('open', MapCache);
    expect(await createCache('open://?anything=1')).toBeInstanceOf(MapCache);
    expect(await createCache({ backend: MapCache, options: { anything: 1 } })).toBeInstanceOf(MapCache);
  });
});
