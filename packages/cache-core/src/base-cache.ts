import { InvalidCacheKey, KeyNotFoundError, NonNumericValueError, NotSupportedError } from './errors';
import { defaultKeyFunction, emitCacheKeyWarning, memcacheKeyWarnings, type KeyFunction } from './keys';
import { CACHE_PARAM_NAMES, checkOptionNames, checkSettingKeys, type KnownOptions } from './known-names';
import { MadeKeyMemo } from './made-key-memo';
import { operationChannel, publishSwallowedError, type OperationName } from './observe/channels';
import { debugLogger } from './observe/debug';
import { observeOperation, type Outcome } from './observe/operation';
import { CacheStats, type CacheStatsSnapshot } from './observe/stats';
import type { StoreStats } from './store-stats';
import { jittered, lockPlan, lockToken, nextPause, staleSeconds, type GetOrSetOptions, type LockPlan } from './stampede/options';
import { isStaleEnvelope, unwrapStale, wrapStale } from './stampede/stale-while-revalidate';
import { checkTimeout, describe, nowInSeconds, timeoutFromConfig, type Timeout } from './timeouts';

/** What a backend primitive returns for a key it does not hold (distinct from a stored `undefined`). */
export const MISSING: unique symbol = Symbol.for('cachette.missing') as never;
export type Missing = typeof MISSING;

/** A primitive may answer synchronously (locmem) or with a native Promise (network backends). */
export type Awaitable<T> = T | Promise<T>;

/** The settings every backend accepts; Django's CACHES entry minus BACKEND. */
export interface CacheParams {
  /** Where the data lives: a locmem name, a directory, a database URL, server addresses. */
  location?: string | readonly string[];
  /** Default timeout in seconds (`null`: never expires). Default 300. */
  timeout?: number | null;
  /** Prepended to every key by the key function. Default `''`. */
  keyPrefix?: string;
  /** Default version of keys. Default 1. */
  version?: number;
  /** Builds stored keys; default `prefix:version:key`. */
  keyFunction?: KeyFunction;
  /** Backend-specific options (`maxEntries`, `cullFrequency`, `serializer`, …). */
  options?: object;
  /** Count hits, misses, writes, errors and latencies for `stats()`. Default `false`. */
  stats?: boolean;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

type ValueSource<T> = T | (() => T | Promise<T>);

/** A `getOrSet` result, and whether the cache had it. */
interface Fetched<T> {
  readonly value: T;
  readonly hit: boolean;
}

/** One `getOrSet`'s backend timeout (kept past the fresh time when stale values are served), and its lock. */
interface GetOrSetPlan {
  readonly timeout: number | null;
  /** Seconds the value is fresh, when stale values are served after that; else `null`. */
  readonly freshSeconds: number | null;
  readonly lock: LockPlan | null;
}

async function produce<T>(source: ValueSource<T>): Promise<T> {
  return typeof source === 'function' ? (source as () => T | Promise<T>)() : source;
}

/** What `getOrSet` stores: the value, in a soft-expiry envelope when stale values are served. */
function storedForm(value: unknown, plan: GetOrSetPlan): unknown {
  return plan.freshSeconds === null ? value : wrapStale(value, Date.now() + plan.freshSeconds * 1000);
}

/** What a read hands out: `defaultValue` for a miss, the value of a stale envelope. */
function readValue<T>(found: unknown, defaultValue: T | undefined): T | undefined {
  return found === MISSING ? defaultValue : (unwrapStale(found) as T);
}

const hitOrMiss: Outcome<unknown> = (found) => (found === MISSING ? [0, 1] : [1, 0]);
const hitOrComputed: Outcome<Fetched<unknown>> = (fetched) => (fetched.hit ? [1, 0] : [0, 1]);

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

const NO_STATS = new CacheStats();
/** How many caller keys a cache remembers the made key of (see `madeKeys`). */
const REMEMBERED_KEYS = 10_000;
const debug = debugLogger('stampede');

/** The keys of a many-key call as a list; a string or anything not iterable is a caller's mistake. */
function keyList(keys: Iterable<string>, method: string): string[] {
  if (typeof keys === 'string' || typeof (keys as Partial<Iterable<string>> | null | undefined)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`${method} takes an iterable of keys (an array, a Set, …); got ${describe(keys)}`);
  }
  return [...keys];
}

/** The entries of `setMany`'s data: a Map or a plain object of keys to values, nothing else. */
function entriesOf(data: Map<string, unknown> | Record<string, unknown>): Array<[string, unknown]> {
  if (data instanceof Map) return [...data.entries()];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TypeError(`setMany takes a Map or an object of keys to values; got ${Array.isArray(data) ? 'an array' : describe(data)}`);
  }
  return Object.entries(data);
}

/** Runs `start`, turning a synchronous throw into a rejection: a method that answers with a Promise never throws. */
function rejectingThrows<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkDelta(delta: unknown): number {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new TypeError(`An increment must be a safe integer; got ${String(delta)}`);
  }
  return delta;
}

/**
 * Another cache's primitives, for a cache built over caches (`TieredCache`): keys are made and
 * validated by the caller, timeouts converted with `backendTimeout` first.
 */
export interface CachePrimitives {
  /** The cache's own conversion of a timeout in seconds (`null`: never) for its primitives. */
  backendTimeout(seconds: number | null): number | null;
  get(key: string): Awaitable<unknown>;
  set(key: string, value: unknown, timeout: number | null): Awaitable<void>;
  add(key: string, value: unknown, timeout: number | null): Awaitable<boolean>;
  touch(key: string, timeout: number | null): Awaitable<boolean>;
  delete(key: string): Awaitable<boolean>;
  incr(key: string, delta: number): Awaitable<number | Missing>;
  has(key: string): Promise<boolean>;
  ttl(key: string): Awaitable<number | null | Missing>;
  getMany(keys: readonly string[]): Promise<Map<string, unknown>>;
  setMany(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]>;
  deleteMany(keys: readonly string[]): Promise<void>;
  acquireLock(key: string, token: string, ttl: number): Awaitable<boolean>;
  releaseLock(key: string, token: string): Promise<void>;
}

/**
 * The cache contract, with Django's semantics and one async API.
 *
 * Public methods take the caller's keys, make and validate them, convert timeouts once, and call
 * the backend's primitives with made keys. A backend implements the primitives (`getItem`,
 * `setItem`, `addItem`, `touchItem`, `deleteItem`, `incrItem`, `clear`), `ttlItem` where its
 * store records expiries, and overrides the many-key ones where it can do them in one round trip.
 */
export abstract class BaseCache {
  readonly defaultTimeout: number | null;
  readonly keyPrefix: string;
  readonly version: number;
  readonly keyFunction: KeyFunction;
  /** The registry alias this cache was made for (set by `caches`), for observers. */
  alias: string | undefined;
  private readonly pendingGetOrSet = new Map<string, Promise<unknown>>();
  private readonly pendingRefresh = new Map<string, Promise<void>>();
  private readonly statsRecorder: CacheStats | undefined;
  /**
   * Made keys of the default version, remembered per caller key: an operation on a key used
   * before neither builds nor validates it again. Only under the default key function, which is
   * pure; another may answer differently for one key (per tenant, say) and is called every time.
   */
  protected readonly madeKeys: MadeKeyMemo;

  /**
   * The options (and URL query parameters) the backend knows, from `declareOptions`: any other
   * is refused with `UnknownCacheOptionError`. A backend that leaves it undefined is not checked.
   */
  static readonly knownOptions?: KnownOptions;

  constructor(params: CacheParams = {}) {
    checkSettingKeys(params, CACHE_PARAM_NAMES, `for ${new.target.name}`);
    const { knownOptions } = new.target as typeof BaseCache;
    if (knownOptions) checkOptionNames(params.options, knownOptions, new.target.name);
    this.defaultTimeout = timeoutFromConfig(params.timeout);
    this.keyPrefix = params.keyPrefix ?? '';
    this.version = params.version ?? 1;
    if (!Number.isSafeInteger(this.version)) throw new TypeError(`Cache version must be an integer; got ${String(params.version)}`);
    this.keyFunction = params.keyFunction ?? defaultKeyFunction;
    if (params.stats !== undefined && typeof params.stats !== 'boolean') throw new TypeError(`Cache parameter stats must be true or false; got ${String(params.stats)}`);
    this.statsRecorder = params.stats ? new CacheStats() : undefined;
    this.madeKeys = new MadeKeyMemo(this.keyFunction === defaultKeyFunction ? REMEMBERED_KEYS : 0);
  }

  // ---- keys and timeouts -------------------------------------------------------------------

  makeKey(key: string, version?: number): string {
    return this.keyFunction(key, this.keyPrefix, version ?? this.version);
  }

  /** Emits a `CacheKeyWarning` for keys memcached would reject; strict backends throw `InvalidCacheKey`. */
  validateKey(key: string): void {
    for (const message of memcacheKeyWarnings(key)) emitCacheKeyWarning(message);
  }

  /** Keys that draw a warning are not remembered: they are validated, and warn, on every use. */
  makeAndValidateKey(key: string, version?: number): string {
    const remembered = this.madeKeys.lookup(key, version, this.version);
    if (remembered !== undefined) return remembered.made;
    if (typeof key !== 'string') throw new InvalidCacheKey(`Cache keys are strings; got ${typeof key}`);
    const made = this.makeKey(key, version);
    this.validateKey(made);
    return this.madeKeys.offer(key, version, this.version, made);
  }

  /**
   * Converts an API timeout to what this backend's primitives receive. The default: absolute
   * expiry in epoch seconds (a float), `null` for never; `0` becomes -1 so it is already past.
   */
  getBackendTimeout(timeout?: number | null): number | null {
    if (timeout === undefined) timeout = this.defaultTimeout;
    else if (timeout === 0) timeout = -1;
    return timeout === null ? null : nowInSeconds() + timeout;
  }

  private backendTimeout(timeout: Timeout): number | null {
    return this.getBackendTimeout(checkTimeout(timeout));
  }

  // ---- primitives a backend implements (keys are made and validated) --------------------------

  protected abstract getItem(key: string): Awaitable<unknown>;
  protected abstract setItem(key: string, value: unknown, timeout: number | null): Awaitable<void>;
  protected abstract addItem(key: string, value: unknown, timeout: number | null): Awaitable<boolean>;
  protected abstract touchItem(key: string, timeout: number | null): Awaitable<boolean>;
  protected abstract deleteItem(key: string): Awaitable<boolean>;
  /** Adds `delta` keeping the expiry; returns the new value, or `MISSING`. Throws `NonNumericValueError`. */
  protected abstract incrItem(key: string, delta: number): Awaitable<number | Missing>;
  abstract clear(): Promise<void>;

  protected async hasItem(key: string): Promise<boolean> {
    return (await this.getItem(key)) !== MISSING;
  }

  /**
   * Seconds the key has left, `null` when it never expires, `MISSING` when it is absent or
   * expired. Only the store knows an entry's expiry, so there is no default built on other
   * primitives: a backend that can read it overrides this.
   */
  protected ttlItem(_key: string): Awaitable<number | null | Missing> {
    return Promise.reject(new NotSupportedError(`${this.constructor.name} cannot report a key's remaining time`));
  }

  /** Made keys in (no repeats), found made keys out. */
  protected async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (const key of keys) {
      const value = await this.getItem(key);
      if (value !== MISSING) found.set(key, value);
    }
    return found;
  }

  /**
   * Made keys in (repeats allowed), their values out in the same order, `MISSING` where absent:
   * what `getMany` reads through. Derived from `getManyItems`; a store that answers in key order
   * (Redis `MGET`) overrides this instead, and derives `getManyItems` with `foundInOrder`.
   */
  protected async getManyInOrder(keys: readonly string[]): Promise<unknown[]> {
    const found = await this.getManyItems([...new Set(keys)]);
    return keys.map((key) => (found.has(key) ? found.get(key) : MISSING));
  }

  /** Returns the made keys that could not be stored. */
  protected async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    for (const [key, value] of entries) await this.setItem(key, value, timeout);
    return [];
  }

  protected async deleteManyItems(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.deleteItem(key);
  }

  // ---- locks (getOrSet's `lock` option) ------------------------------------------------------

  /**
   * Whether the lock of `getOrSet(..., { lock })` keeps other processes out. The default lock is
   * the backend's own `add`, atomic on a shared store; locmem's reaches this process only.
   */
  get locksAcrossProcesses(): boolean {
    return true;
  }

  /** Takes the lock `key` for `ttl` seconds, holding `token`; `false` when somebody holds it. */
  protected acquireLockItem(key: string, token: string, ttl: number): Awaitable<boolean> {
    return this.addItem(key, token, this.getBackendTimeout(ttl));
  }

  /**
   * Frees the lock `key` when `token` still holds it. The default reads then deletes, so a lock
   * that expired in between and was taken again can be freed early; backends with a
   * compare-and-delete (Redis) do it in one step.
   */
  protected async releaseLockItem(key: string, token: string): Promise<void> {
    if ((await this.getItem(key)) === token) await this.deleteItem(key);
  }

  // ---- observation --------------------------------------------------------------------------

  /** Whether a call is to be published on `cachette:operation` or counted in `stats()`. */
  protected isObserved(): boolean {
    return this.statsRecorder !== undefined || operationChannel.hasSubscribers;
  }

  private observe<T>(operation: OperationName, key: string | undefined, keys: number, run: () => Awaitable<T>, outcome?: Outcome<T>): Awaitable<T> {
    return this.isObserved() ? observeOperation(this, this.statsRecorder, operation, key, keys, run, outcome) : run();
  }

  /** `observe` for the methods that answer with a Promise, rejecting rather than throwing. */
  private observeAsync<T>(operation: OperationName, key: string | undefined, keys: number, run: () => Awaitable<T>, outcome?: Outcome<T>): Promise<T> {
    return rejectingThrows(() => Promise.resolve(this.observe(operation, key, keys, run, outcome)));
  }

  /** What this cache counted since it was made or reset (`stats: true` in its parameters). */
  stats(): CacheStatsSnapshot {
    return (this.statsRecorder ?? NO_STATS).snapshot(this.statsRecorder !== undefined);
  }

  resetStats(): void {
    this.statsRecorder?.reset();
  }

  /**
   * What the backing store reports about itself right now (for a person or a script, such as
   * `cachette stats <url>`): `entries` and `bytes` where the backend knows them, then names of
   * its own. Unlike `stats()`, which counts this process's own operations, this asks the store,
   * so it covers every key prefix and every client of a shared store.
   *
   * An administrative call: a failure to reach the store rejects with the backend's usual error
   * (`CacheConnectionError`, ...) even with `ignoreExceptions`. The default rejects with
   * `NotSupportedError`; a backend whose store can say something overrides it.
   */
  storeStats(): Promise<StoreStats> {
    return Promise.reject(new NotSupportedError(`${this.constructor.name} reports nothing about its store`));
  }

  // ---- composition --------------------------------------------------------------------------

  /** The primitives of `cache`, for a subclass that stores through other caches. */
  protected static primitivesOf(cache: BaseCache): CachePrimitives {
    return {
      backendTimeout: (seconds) => cache.getBackendTimeout(seconds),
      get: (key) => cache.getItem(key),
      set: (key, value, timeout) => cache.setItem(key, value, timeout),
      add: (key, value, timeout) => cache.addItem(key, value, timeout),
      touch: (key, timeout) => cache.touchItem(key, timeout),
      delete: (key) => cache.deleteItem(key),
      incr: (key, delta) => cache.incrItem(key, delta),
      has: (key) => cache.hasItem(key),
      ttl: (key) => cache.ttlItem(key),
      getMany: (keys) => cache.getManyItems(keys),
      setMany: (entries, timeout) => cache.setManyItems(entries, timeout),
      deleteMany: (keys) => cache.deleteManyItems(keys),
      acquireLock: (key, token, ttl) => cache.acquireLockItem(key, token, ttl),
      releaseLock: (key, token) => cache.releaseLockItem(key, token),
    };
  }

  // ---- the public API ----------------------------------------------------------------------

  /** Stores `value` only if `key` is absent or expired; `true` when it did. */
  add(key: string, value: unknown, timeout?: Timeout, version?: number): Promise<boolean> {
    return this.observeAsync('add', key, 1, () => this.addItem(this.makeAndValidateKey(key, version), value, this.backendTimeout(timeout)));
  }

  /** The stored value, or `defaultValue` when missing or expired. A stored `null` is returned as `null`. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T = unknown>(key: string, defaultValue: T, version?: number): Promise<T>;
  get<T = unknown>(key: string, defaultValue?: T, version?: number): Promise<T | undefined> {
    try {
      const found = this.getAwaitable(key, defaultValue, version);
      return isPromise(found) ? found : Promise.resolve(found);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `get`, without a Promise when the backend answers synchronously (an in-process backend such as
   * locmem): the value or `defaultValue`, else a Promise of it. For hot paths that read several
   * keys in a row (the page cache) and would otherwise pay a microtask for each; `get` otherwise.
   * What `get` would reject with is thrown when the backend answers synchronously.
   */
  getAwaitable<T = unknown>(key: string, defaultValue?: T, version?: number): Awaitable<T | undefined> {
    const found = this.observe('get', key, 1, () => this.getItem(this.makeAndValidateKey(key, version)), hitOrMiss);
    if (isPromise(found)) return found.then((value) => readValue(value, defaultValue));
    return readValue(found, defaultValue);
  }

  set(key: string, value: unknown, timeout?: Timeout, version?: number): Promise<void> {
    return this.observeAsync('set', key, 1, () => this.setItem(this.makeAndValidateKey(key, version), value, this.backendTimeout(timeout)));
  }

  /** Gives a stored key a new expiry counted from now; `false` when the key is missing. */
  touch(key: string, timeout?: Timeout, version?: number): Promise<boolean> {
    return this.observeAsync('touch', key, 1, () => this.touchItem(this.makeAndValidateKey(key, version), this.backendTimeout(timeout)));
  }

  /**
   * Seconds the key has left (fractional), `null` when it never expires, `undefined` when it is
   * missing or expired. django-redis's `ttl()` answers 0 for a missing key and `None` for a
   * persistent one; here a missing key is `undefined`, so that no answer reads as "expires now".
   * Rejects with `NotSupportedError` on a backend that cannot read expiries.
   */
  ttl(key: string, version?: number): Promise<number | null | undefined> {
    return this.observeAsync('ttl', key, 1, async () => {
      const left = await this.ttlItem(this.makeAndValidateKey(key, version));
      // A key with no time left is expired, whatever the store's clock says at this instant.
      return left === MISSING || (left !== null && left <= 0) ? undefined : left;
    });
  }

  /** `true` when something was deleted. */
  delete(key: string, version?: number): Promise<boolean> {
    return this.observeAsync('delete', key, 1, () => this.deleteItem(this.makeAndValidateKey(key, version)));
  }

  /** The keys found, under the caller's keys; missing keys are left out, stored `null`s kept. */
  getMany<T = unknown>(keys: Iterable<string>, version?: number): Promise<Map<string, T>> {
    return rejectingThrows(() => {
      const list = keyList(keys, 'getMany');
      return this.observeAsync('getMany', undefined, list.length, () => this.readMany<T>(list, version), (found) => [found.size, list.length - found.size]);
    });
  }

  /** In the caller's order, each key made and validated once, with no map from made keys back to the caller's. */
  private async readMany<T>(keys: readonly string[], version: number | undefined): Promise<Map<string, T>> {
    const result = new Map<string, T>();
    if (keys.length === 0) return result;
    const made = keys.map((key) => this.makeAndValidateKey(key, version));
    const values = await this.getManyInOrder(made);
    for (let index = 0; index < keys.length; index++) {
      const value = values[index];
      if (value !== MISSING) result.set(keys[index]!, unwrapStale(value) as T);
    }
    return result;
  }

  /**
   * The stored value; when missing, stores `defaultValue` (calling it first when it is a
   * function) with `add` and returns what the cache then holds. Concurrent calls for one key on
   * one cache share a single computation, and its error.
   *
   * `options.lock` computes under a lock (one computation across processes where the backend's
   * lock reaches them, see `locksAcrossProcesses`); `options.staleWhileRevalidate` keeps serving
   * the value that far past its timeout while one caller refreshes it in the background;
   * `options.jitter` shortens the timeout by a random fraction.
   */
  getOrSet<T>(key: string, defaultValue: T | (() => T | Promise<T>), timeout?: Timeout, version?: number, options: GetOrSetOptions = {}): Promise<T> {
    return this.observeAsync('getOrSet', key, 1, () => this.sharedGetOrSet(key, defaultValue as ValueSource<T>, timeout, version, options), hitOrComputed).then(
      ({ value }) => value,
    );
  }

  private sharedGetOrSet<T>(key: string, source: ValueSource<T>, timeout: Timeout, version: number | undefined, options: GetOrSetOptions): Promise<Fetched<T>> {
    const made = this.makeAndValidateKey(key, version);
    const plan = this.planGetOrSet(timeout, options);
    const pending = this.pendingGetOrSet.get(made);
    if (pending) return pending as Promise<Fetched<T>>;
    const computation = this.computeGetOrSet(made, source, plan).finally(() => this.pendingGetOrSet.delete(made));
    this.pendingGetOrSet.set(made, computation);
    return computation;
  }

  /** The timeouts and lock of one `getOrSet`, from its timeout and options. */
  private planGetOrSet(timeout: Timeout, options: GetOrSetOptions): GetOrSetPlan {
    const checked = checkTimeout(timeout);
    let fresh = checked === undefined ? this.defaultTimeout : checked;
    if (fresh !== null && fresh > 0) fresh = jittered(fresh, options.jitter);
    const stale = staleSeconds(options.staleWhileRevalidate);
    const keepsStale = stale > 0 && fresh !== null && fresh > 0;
    return {
      timeout: this.getBackendTimeout(fresh === null ? null : keepsStale ? fresh + stale : fresh),
      freshSeconds: keepsStale ? fresh : null,
      lock: lockPlan(options.lock),
    };
  }

  private async computeGetOrSet<T>(key: string, source: ValueSource<T>, plan: GetOrSetPlan): Promise<Fetched<T>> {
    const found = await this.getItem(key);
    if (found !== MISSING) {
      if (isStaleEnvelope(found) && Date.now() >= found.freshUntil) this.refreshInBackground(key, source, plan);
      return { value: unwrapStale(found) as T, hit: true };
    }
    if (plan.lock) return { value: await this.computeUnderLock(key, source, plan, plan.lock), hit: false };
    return { value: await this.computeAndAdd(key, source, plan), hit: false };
  }

  /** Django's `get_or_set` after a miss: compute, `add`, and read what the cache then holds. */
  private async computeAndAdd<T>(key: string, source: ValueSource<T>, plan: GetOrSetPlan): Promise<T> {
    const value = await produce(source);
    await this.addItem(key, storedForm(value, plan), plan.timeout);
    // Read again: another process may have won the add; if nothing is stored (timeout 0), the default.
    const stored = await this.getItem(key);
    return stored === MISSING ? value : (unwrapStale(stored) as T);
  }

  /**
   * Takes the lock, looks again, computes and stores; or, while another holds it, waits for its
   * value (with backoff), taking the lock when it frees, and computes after `wait` regardless.
   */
  private async computeUnderLock<T>(key: string, source: ValueSource<T>, plan: GetOrSetPlan, lock: LockPlan): Promise<T> {
    const lockKey = `${key}:lock`;
    const token = lockToken();
    const giveUpAt = Date.now() + lock.wait * 1000;
    for (let pause = 0; ; ) {
      if (await this.acquireLockItem(lockKey, token, lock.ttl)) {
        try {
          const stored = await this.getItem(key);
          if (stored !== MISSING) return unwrapStale(stored) as T;
          debug('%s: lock taken, computing', key);
          const value = await produce(source);
          await this.setItem(key, storedForm(value, plan), plan.timeout);
          return value;
        } finally {
          await this.releaseLock(lockKey, token);
        }
      }
      const left = giveUpAt - Date.now();
      if (left <= 0) {
        debug('%s: waited %d s for the lock holder, computing', key, lock.wait);
        return this.computeAndAdd(key, source, plan);
      }
      pause = nextPause(pause);
      await sleep(Math.min(pause * 1000, left));
      const stored = await this.getItem(key);
      if (stored !== MISSING) return unwrapStale(stored) as T;
    }
  }

  /** Frees a lock; a failure is published, not raised: the lock expires on its own. */
  private async releaseLock(lockKey: string, token: string): Promise<void> {
    try {
      await this.releaseLockItem(lockKey, token);
    } catch (error) {
      publishSwallowedError(this, 'releaseLock', error);
    }
  }

  /** Refreshes a stale value once (per process, and under the lock when asked), for the next readers. */
  private refreshInBackground<T>(key: string, source: ValueSource<T>, plan: GetOrSetPlan): void {
    if (this.pendingRefresh.has(key)) return;
    debug('%s: stale, refreshing in the background', key);
    const refresh = this.refresh(key, source, plan)
      .catch((error: unknown) => publishSwallowedError(this, 'refresh', error))
      .finally(() => this.pendingRefresh.delete(key));
    this.pendingRefresh.set(key, refresh);
  }

  private async refresh<T>(key: string, source: ValueSource<T>, plan: GetOrSetPlan): Promise<void> {
    const store = async () => this.setItem(key, storedForm(await produce(source), plan), plan.timeout);
    if (!plan.lock) return store();
    const lockKey = `${key}:lock`;
    const token = lockToken();
    // Somebody else holds the lock: that caller is refreshing already.
    if (!(await this.acquireLockItem(lockKey, token, plan.lock.ttl))) return;
    try {
      await store();
    } finally {
      await this.releaseLock(lockKey, token);
    }
  }

  /** `true` when the key is stored (also when its value is `null` or `undefined`). */
  hasKey(key: string, version?: number): Promise<boolean> {
    return this.observeAsync('hasKey', key, 1, () => this.hasItem(this.makeAndValidateKey(key, version)));
  }

  /** Adds `delta` to a stored integer, keeping its expiry. Rejects with `KeyNotFoundError` when missing. */
  incr(key: string, delta = 1, version?: number): Promise<number> {
    return this.observeAsync('incr', key, 1, async () => {
      const result = await this.incrItem(this.makeAndValidateKey(key, version), checkDelta(delta));
      if (result === MISSING) throw new KeyNotFoundError(key);
      return result;
    });
  }

  async decr(key: string, delta = 1, version?: number): Promise<number> {
    return this.incr(key, -checkDelta(delta), version);
  }

  /** Stores every entry; returns the caller's keys that could not be stored. */
  setMany(data: Map<string, unknown> | Record<string, unknown>, timeout?: Timeout, version?: number): Promise<string[]> {
    return rejectingThrows(() => {
      const entries = entriesOf(data);
      return this.observeAsync('setMany', undefined, entries.length, () => this.writeMany(entries, timeout, version));
    });
  }

  private async writeMany(entries: ReadonlyArray<readonly [string, unknown]>, timeout: Timeout, version: number | undefined): Promise<string[]> {
    const originals = new Map<string, string>();
    const items: Array<readonly [string, unknown]> = [];
    for (const [key, value] of entries) {
      const made = this.makeAndValidateKey(key, version);
      originals.set(made, key);
      items.push([made, value]);
    }
    if (items.length === 0) return [];
    const failed = await this.setManyItems(items, this.backendTimeout(timeout));
    return failed.map((made) => originals.get(made) ?? made);
  }

  deleteMany(keys: Iterable<string>, version?: number): Promise<void> {
    return rejectingThrows(() => {
      const list = keyList(keys, 'deleteMany');
      return this.observeAsync('deleteMany', undefined, list.length, async () => {
        const made = list.map((key) => this.makeAndValidateKey(key, version));
        if (made.length > 0) await this.deleteManyItems(made);
      });
    });
  }

  /** Moves a value to `version + delta` (the new key gets the default timeout, as in Django). */
  incrVersion(key: string, delta = 1, version?: number): Promise<number> {
    return this.observeAsync('incrVersion', key, 1, async () => {
      const from = version ?? this.version;
      const value = await this.getItem(this.makeAndValidateKey(key, from));
      if (value === MISSING) throw new KeyNotFoundError(key);
      const to = from + checkDelta(delta);
      await this.set(key, value, undefined, to);
      await this.delete(key, from);
      return to;
    });
  }

  async decrVersion(key: string, delta = 1, version?: number): Promise<number> {
    return this.incrVersion(key, -checkDelta(delta), version);
  }

  /** Releases connections and handles. The default has nothing to release. */
  async close(): Promise<void> {}
}

/** `getManyItems`'s answer from `getManyInOrder`'s: the keys with a value, mapped to it. */
export function foundInOrder(keys: readonly string[], values: readonly unknown[]): Map<string, unknown> {
  const found = new Map<string, unknown>();
  for (let index = 0; index < keys.length; index++) {
    if (values[index] !== MISSING) found.set(keys[index]!, values[index]);
  }
  return found;
}

/** For backends that increment by reading and writing: the new value, or why it cannot be one. */
export function incrementedValue(key: string, current: unknown, delta: number): number {
  if (typeof current !== 'number' || !Number.isInteger(current)) throw new NonNumericValueError(key);
  const next = current + delta;
  if (!Number.isSafeInteger(next)) throw new NonNumericValueError(key, 'the result is outside the safe integer range');
  return next;
}
