import {
  BaseCache,
  CacheConnectionError,
  CacheTimeoutError,
  InvalidCacheBackendError,
  InvalidCacheKey,
  MISSING,
  NonNumericValueError,
  OutageReporter,
  ValueTooLargeError,
  declareOptions,
  decodeUrlComponent,
  foundInOrder,
  memcacheKeyWarnings,
  resolveSerializer,
  serverStoreStats,
  type CacheParams,
  type Missing,
  type ParsedCacheUrl,
  type SerializerOption,
  type StoreStats,
} from '@cachette/cache-core';
import { MemcachedClient, type MemcachedClientOptions } from './client';
import { MAX_KEY_BYTES } from './keys';
import { MAX_EXPTIME, MIN_EXPTIME } from './protocol';
import { createItemCodec, type DjangoClient } from './django-flags';
import type { ItemCodec } from './value-flags';

export interface MemcachedCacheOptions extends MemcachedClientOptions {
  /**
   * How values other than Buffers and safe integers become bytes: `'v8'` (default), `'json'` or
   * your own. `'pickle'` stores every value as Django's memcached backend does (see `djangoClient`).
   */
  serializer?: SerializerOption;
  /**
   * With `serializer: 'pickle'`, the Python client of the Django backend sharing the cache, whose
   * flags Cachette writes: `'pymemcache'` (`PyMemcacheCache`, the default), `'pylibmc'`
   * (`PyLibMCCache`) or `'python-memcached'` (`MemcachedCache`, 1.59 or later).
   */
  djangoClient?: DjangoClient;
  /**
   * When a server is down or slow: `get` returns the default, `getMany` finds nothing, writes
   * return `false` (and `setMany` the keys it could not store) instead of rejecting. One warning
   * (`process.emitWarning`) per outage. Default `false`.
   */
  ignoreExceptions?: boolean;
}

export interface MemcachedCacheParams extends CacheParams {
  options?: MemcachedCacheOptions;
}

/** memcached reads an exptime beyond 30 days as a Unix time. */
const MAX_RELATIVE_EXPTIME = 30 * 24 * 3600;
export const DEFAULT_LOCATION = '127.0.0.1:11211';
/** What `storeStats()` takes from each server's `stats`. */
const SERVER_STATS = ['version', 'uptime', 'curr_items', 'bytes', 'limit_maxbytes', 'get_hits', 'get_misses', 'evictions'];

function isOutage(error: unknown): boolean {
  return error instanceof CacheConnectionError || error instanceof CacheTimeoutError;
}

/**
 * Django's memcached backend over Cachette's own clients: one server or a ketama ring, text or
 * binary protocol. `clear()` flushes every server entirely, whatever the key prefix.
 */
export class MemcachedCache extends BaseCache {
  static override readonly knownOptions = declareOptions<MemcachedCacheOptions>({
    serializer: 'url',
    djangoClient: 'url',
    ignoreExceptions: 'url',
    protocol: 'url',
    username: 'url',
    password: 'url',
    tls: 'url',
    connectTimeout: 'url',
    operationTimeout: 'url',
    poolSize: 'url',
    failureLimit: 'url',
    retryTimeout: 'url',
  });

  readonly client: MemcachedClient;
  private readonly codec: ItemCodec;
  private readonly ignoreExceptions: boolean;
  private readonly decodeItem = (flags: number, source: Buffer, start: number, end: number): unknown => this.codec.decodeRange(flags, source, start, end);
  private readonly outages = new OutageReporter(this, { text: 'Memcached is unavailable, ignored as ignoreExceptions asks', type: 'CacheOutageWarning' });

  constructor(params: MemcachedCacheParams = {}) {
    super(params);
    const { serializer, djangoClient, ignoreExceptions = false, ...clientOptions } = params.options ?? {};
    this.codec = createItemCodec(resolveSerializer(serializer), djangoClient);
    if (typeof ignoreExceptions !== 'boolean') {
      throw new InvalidCacheBackendError(`Memcached option ignoreExceptions must be true or false; got ${String(ignoreExceptions)}`);
    }
    this.ignoreExceptions = ignoreExceptions;
    this.client = new MemcachedClient(params.location ?? DEFAULT_LOCATION, clientOptions);
  }

  /**
   * `memcached://host1:11211,host2:11211?protocol=binary`, `memcached://user:pass@host`
   * (credentials for SASL), `memcached:///run/memcached.sock` or `memcached://unix:/path`.
   */
  static paramsFromUrl(parsed: ParsedCacheUrl, common: CacheParams): CacheParams {
    let body = parsed.body;
    const options: Record<string, unknown> = { ...(common.options ?? {}) };
    const at = body.lastIndexOf('@');
    if (at !== -1) {
      const userinfo = body.slice(0, at);
      const colon = userinfo.indexOf(':');
      options.username = decodeUrlComponent(colon === -1 ? userinfo : userinfo.slice(0, colon), parsed.url);
      options.password = decodeUrlComponent(colon === -1 ? '' : userinfo.slice(colon + 1), parsed.url);
      body = body.slice(at + 1);
    }
    const location = decodeUrlComponent(body, parsed.url).split(',');
    return { ...common, location, options };
  }

  /**
   * Django's conversion: `null` never expires (0), 0 expires at once (-1), beyond 30 days an
   * absolute Unix time. Kept within the exptimes memcached reads (see `MAX_EXPTIME`): the last
   * one is in January 2038, and a cache may always drop an entry early.
   */
  override getBackendTimeout(timeout?: number | null): number {
    if (timeout === undefined) timeout = this.defaultTimeout;
    if (timeout === null) return 0;
    const seconds = Math.trunc(timeout) || -1;
    if (seconds <= MAX_RELATIVE_EXPTIME) return Math.max(seconds, MIN_EXPTIME);
    return Math.min(seconds + Math.trunc(Date.now() / 1000), MAX_EXPTIME);
  }

  /** memcached's rules, raised rather than warned: such a key cannot be stored. Also counts UTF-8 bytes. */
  override validateKey(key: string): void {
    const problems = memcacheKeyWarnings(key);
    if (problems.length > 0) throw new InvalidCacheKey(problems[0]!);
    if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) {
      throw new InvalidCacheKey(`Cache key will cause errors if used with memcached: it is longer than ${MAX_KEY_BYTES} bytes in UTF-8`);
    }
  }

  protected getItem(key: string): Promise<unknown> {
    return this.guard(
      this.client.get(key).then((item) => (item ? this.codec.decode(item) : MISSING)),
      MISSING,
    );
  }

  protected async setItem(key: string, value: unknown, timeout: number | null): Promise<void> {
    const item = this.codec.encode(value);
    // Django's rule: a value that cannot be stored must not leave the old one behind.
    const forgetOldValue = (): Promise<boolean> => this.guard(this.client.delete(key), false);
    try {
      const stored = await this.guard(this.client.set(key, item.value, { flags: item.flags, exptime: timeout! }), true);
      if (!stored) await forgetOldValue();
    } catch (error) {
      if (error instanceof ValueTooLargeError) await forgetOldValue();
      throw error;
    }
  }

  protected addItem(key: string, value: unknown, timeout: number | null): Promise<boolean> {
    const item = this.codec.encode(value);
    return this.guard(this.client.add(key, item.value, { flags: item.flags, exptime: timeout! }), false);
  }

  protected touchItem(key: string, timeout: number | null): Promise<boolean> {
    return this.guard(this.client.touch(key, timeout!), false);
  }

  /** Meta get on the text protocol; over the binary protocol, `NotSupportedError`. */
  protected override async ttlItem(key: string): Promise<number | null | Missing> {
    const left = await this.guard(this.client.ttl(key), undefined);
    return left === undefined ? MISSING : left;
  }

  protected deleteItem(key: string): Promise<boolean> {
    return this.guard(this.client.delete(key), false);
  }

  /**
   * memcached's own counters, atomic and keeping the expiry. With Cachette's serializers, always
   * `incr` by the delta's 64-bit two's complement: the counter wraps at 2^64, so this is signed
   * addition (memcached's `decr` would stop at 0). With `'pickle'`, Django's `incr`/`decr`, so
   * both sides count alike (see `DjangoValueCodec`). A result outside the safe integer range is
   * undone with the opposite command, also atomic, so concurrent increments by others are kept.
   */
  protected async incrItem(key: string, delta: number): Promise<number | Missing> {
    const { apply, undo } = this.codec.counterSteps(delta);
    const result = await this.guard(this.client[apply[0]](key, apply[1]), undefined);
    if (result === undefined) return MISSING;
    const value = this.codec.counterValue(result);
    if (typeof value === 'number') return value;
    await this.client[undo[0]](key, undo[1]);
    throw new NonNumericValueError(key, 'the result is outside the safe integer range');
  }

  /**
   * One multi-get per server, its values decoded where they lie in the reply (see `ItemRanges`):
   * no Buffer, item or map entry per value, and no map from keys back to their order.
   */
  protected override async getManyInOrder(keys: readonly string[]): Promise<unknown[]> {
    const ranges = await this.guard(this.client.getManyInPlace(keys), undefined);
    return ranges === undefined ? keys.map(() => MISSING) : ranges.map(this.decodeItem, MISSING);
  }

  protected override async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    return foundInOrder(keys, await this.getManyInOrder(keys));
  }

  protected override setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    // Everything is serialized before anything is sent: a value that cannot be stored stops the whole call.
    const items = entries.map(([key, value]) => [key, this.codec.encode(value)] as const);
    return this.guard(
      this.client.setMany(items, timeout!),
      entries.map(([key]) => key),
    );
  }

  protected override deleteManyItems(keys: readonly string[]): Promise<void> {
    return this.guard(this.client.deleteMany(keys), undefined);
  }

  /** Flushes every item on every server (memcached `flush_all`), whatever its key prefix or owner. */
  async clear(): Promise<void> {
    await this.guard(this.client.flushAll(), undefined);
  }

  /**
   * Every server's `stats` (text or binary protocol): `entries` and `bytes`, the sums of
   * `curr_items` and `bytes`, then for each server, as `<host:port> <name>`, `version`, `uptime`,
   * `curr_items`, `bytes`, `limit_maxbytes`, `get_hits`, `get_misses` and `evictions`. Not
   * guarded by `ignoreExceptions`: a server that cannot be reached rejects.
   */
  override async storeStats(): Promise<StoreStats> {
    return serverStoreStats(await this.client.stats(), SERVER_STATS, { entries: 'curr_items', bytes: 'bytes' });
  }

  override close(): Promise<void> {
    return this.client.close();
  }

  /** With `ignoreExceptions`, an unreachable or slow server gives `fallback`, with one warning per outage. */
  private guard<T>(operation: Promise<T>, fallback: T): Promise<T> {
    if (!this.ignoreExceptions) return operation;
    return operation.then(
      (result) => {
        this.outages.recovered();
        return result;
      },
      (error: unknown) => {
        if (!isOutage(error)) throw error;
        this.outages.swallowed(error);
        return fallback;
      },
    );
  }
}
