import type { BaseCache, CacheParams } from './base-cache';
import type { CacheStatsSnapshot } from './observe/stats';
import { importBackend, loadBackend, type BackendReference, type CacheBackendClass } from './backend-loader';
import { DummyCache } from './dummy-cache';
import { InvalidCacheBackendError } from './errors';
import { CACHE_PARAM_NAMES, checkSettingKeys, checkUrlParameters } from './known-names';
import { backendForScheme, commonParamsFromUrl, parseCacheUrl, type ParsedCacheUrl } from './urls';

/** One entry of the caches configuration, like one of Django's CACHES entries. */
export interface CacheConfig extends CacheParams {
  /** A backend class, or a module specifier resolved from the application (`'@cachette/cache-locmem'`). */
  backend: BackendReference;
}

/** A configuration object or a URL (`locmem://name`, `redis://host:6379/0`, …). */
export type CacheSetting = CacheConfig | string;

export interface RegistryOptions {
  /** Directory module specifiers resolve from. Default: the working directory. */
  resolveFrom?: string;
}

export const DEFAULT_CACHE_ALIAS = 'default';

/** The keys of a configuration object. */
const SETTING_KEYS = ['backend', ...CACHE_PARAM_NAMES];

/** Django's default CACHES: one locmem cache. */
const DEFAULT_SETTINGS: Record<string, CacheSetting> = { [DEFAULT_CACHE_ALIAS]: { backend: '@cachette/cache-locmem' } };

/** A setting taken apart; `url` is kept so the backend can refine what the URL means to it. */
interface SplitSetting {
  backend: BackendReference;
  params: CacheParams;
  url?: ParsedCacheUrl;
}

function splitSetting(setting: CacheSetting): SplitSetting {
  if (typeof setting === 'string') {
    const parsed = parseCacheUrl(setting);
    const backend = parsed.scheme === 'dummy' ? DummyCache : backendForScheme(parsed.scheme);
    if (backend === undefined) throw new InvalidCacheBackendError(`No cache backend is registered for URL scheme '${parsed.scheme}:'`);
    return { backend, params: commonParamsFromUrl(parsed), url: parsed };
  }
  if (typeof setting !== 'object' || setting === null || !('backend' in setting)) {
    throw new InvalidCacheBackendError('A cache setting is a URL or an object with a backend');
  }
  checkSettingKeys(setting, SETTING_KEYS, 'in a cache setting');
  const { backend, ...params } = setting;
  return { backend, params };
}

/** A backend class and the parameters to construct it with (a URL already read by the backend). */
export interface ResolvedCacheSetting {
  backend: CacheBackendClass;
  params: CacheParams;
}

function resolved(backend: CacheBackendClass, { params, url }: SplitSetting): ResolvedCacheSetting {
  if (url && backend.knownOptions) checkUrlParameters(url, backend.knownOptions);
  return { backend, params: url && backend.paramsFromUrl ? backend.paramsFromUrl(url, params) : params };
}

/**
 * A setting's backend class and parameters, without constructing it: for a cache that builds
 * other caches and adds parameters of its own first (`TieredCache` passes `options.tracking`).
 */
export function resolveCacheSetting(setting: CacheSetting, options: RegistryOptions = {}): ResolvedCacheSetting {
  const split = splitSetting(setting);
  return resolved(loadBackend(split.backend, options.resolveFrom), split);
}

function construct({ backend, params }: ResolvedCacheSetting): BaseCache {
  return new backend(params);
}

/** Creates a cache from a configuration object or a URL, outside the registry. */
export async function createCache(setting: CacheSetting, options: RegistryOptions = {}): Promise<BaseCache> {
  const split = splitSetting(setting);
  return construct(resolved(await importBackend(split.backend, options.resolveFrom), split));
}

/** Django's `caches`: one lazily created instance per alias. */
export class CacheHandler {
  private settings: Record<string, CacheSetting> = DEFAULT_SETTINGS;
  private options: RegistryOptions = {};
  private readonly instances = new Map<string, BaseCache>();

  /** Replaces the configuration. Instances already created stay open until `close()`. */
  configure(settings: Record<string, CacheSetting>, options: RegistryOptions = {}): void {
    this.settings = { ...settings };
    this.options = options;
    this.instances.clear();
  }

  /** The cache for `alias`, the same instance on every call. */
  get(alias: string = DEFAULT_CACHE_ALIAS): BaseCache {
    const existing = this.instances.get(alias);
    if (existing) return existing;
    const setting = this.settings[alias];
    if (setting === undefined) throw new InvalidCacheBackendError(`The connection '${alias}' doesn't exist.`);
    const created = construct(resolveCacheSetting(setting, this.options));
    created.alias = alias;
    this.instances.set(alias, created);
    return created;
  }

  aliases(): string[] {
    return Object.keys(this.settings);
  }

  /** `stats()` of every cache created so far, by alias (never creating one to ask it). */
  stats(): Record<string, CacheStatsSnapshot> {
    return Object.fromEntries([...this.instances].map(([alias, instance]) => [alias, instance.stats()]));
  }

  /** Every configured cache (creating them), or with `initializedOnly` those already created. */
  all({ initializedOnly = false } = {}): BaseCache[] {
    return initializedOnly ? [...this.instances.values()] : this.aliases().map((alias) => this.get(alias));
  }

  /** Closes the caches created so far (never creating one to close it). */
  async close(): Promise<void> {
    const open = [...this.instances.values()];
    this.instances.clear();
    const results = await Promise.allSettled(open.map((instance) => instance.close()));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }
}

export const caches = new CacheHandler();

/** Configures the aliases `caches.get()` serves, like Django's `CACHES` setting. */
export function configureCaches(settings: Record<string, CacheSetting>, options?: RegistryOptions): void {
  caches.configure(settings, options);
}

/** Closes every cache the registry created (Django's `close_caches`). */
export function closeCaches(): Promise<void> {
  return caches.close();
}

/** The default cache: every property and method forwards to `caches.get('default')`. */
export const cache: BaseCache = new Proxy({} as BaseCache, {
  get(_target, property) {
    const target = caches.get(DEFAULT_CACHE_ALIAS);
    const value = Reflect.get(target, property, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
  has(_target, property) {
    return property in caches.get(DEFAULT_CACHE_ALIAS);
  },
});
