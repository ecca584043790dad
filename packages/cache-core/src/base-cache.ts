import { InvalidCacheKey, KeyNotFoundError, NonNumericValueError } from './errors';
import { defaultKeyFunction, emitCacheKeyWarning, memcacheKeyWarnings, type KeyFunction } from './keys';
import { checkTimeout, nowInSeconds, timeoutFromConfig, type Timeout } from './timeouts';

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
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

function checkDelta(delta: unknown): number {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new TypeError(`An increment must be a safe integer; got ${String(delta)}`);
  }
  return delta;
}

/**
 * The cache contract, with Django's semantics and one async API.
 *
 * Public methods take the caller's keys, make and validate them, convert timeouts once, and call
 * the backend's primitives with made keys. A backend implements the primitives (`getItem`,
 * `setItem`, `addItem`, `touchItem`, `deleteItem`, `incrItem`, `clear`) and overrides the
 * many-key ones where it can do them in one round trip.
 */
export abstract class BaseCache {
  readonly defaultTimeout: number | null;
  readonly keyPrefix: string;
  readonly version: number;
  readonly keyFunction: KeyFunction;
  private readonly pendingGetOrSet = new Map<string, Promise<unknown>>();

  constructor(params: CacheParams = {}) {
    this.defaultTimeout = timeoutFromConfig(params.timeout);
    this.keyPrefix = params.keyPrefix ?? '';
    this.version = params.version ?? 1;
    if (!Number.isSafeInteger(this.version)) throw new TypeError(`Cache version must be an integer; got ${String(params.version)}`);
    this.keyFunction = params.keyFunction ?? defaultKeyFunction;
  }

  // ---- keys and timeouts -------------------------------------------------------------------

  makeKey(key: string, version?: number): string {
    return this.keyFunction(key, this.keyPrefix, version ?? this.version);
  }

  /** Emits a `CacheKeyWarning` for keys memcached would reject; strict backends throw `InvalidCacheKey`. */
  validateKey(key: string): void {
    for (const message of memcacheKeyWarnings(key)) emitCacheKeyWarning(message);
  }

  makeAndValidateKey(key: string, version?: number): string {
    if (typeof key !== 'string') throw new InvalidCacheKey(`Cache keys are strings; got ${typeof key}`);
    const made = this.makeKey(key, version);
    this.validateKey(made);
    return made;
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

  /** Made keys in, found made keys out. */
  protected async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (const key of keys) {
      const value = await this.getItem(key);
      if (value !== MISSING) found.set(key, value);
    }
    return found;
  }

  /** Returns the made keys that could not be stored. */
  protected async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    for (const [key, value] of entries) await this.setItem(key, value, timeout);
    return [];
  }

  protected async deleteManyItems(keys: readonly string[]): Promise<void> {
    for (const key of keys) await this.deleteItem(key);
  }

  // ---- the public API ----------------------------------------------------------------------

  /** Stores `value` only if `key` is absent or expired; `true` when it did. */
  add(key: string, value: unknown, timeout?: Timeout, version?: number): Promise<boolean> {
    try {
      return Promise.resolve(this.addItem(this.makeAndValidateKey(key, version), value, this.backendTimeout(timeout)));
    } catch (error) {
      return Promise.reject(error);
    }
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
    const found = this.getItem(this.makeAndValidateKey(key, version));
    if (isPromise(found)) return found.then((value) => (value === MISSING ? defaultValue : (value as T)));
    return found === MISSING ? defaultValue : (found as T);
  }

  set(key: string, value: unknown, timeout?: Timeout, version?: number): Promise<void> {
    try {
      return Promise.resolve(this.setItem(this.makeAndValidateKey(key, version), value, this.backendTimeout(timeout)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Gives a stored key a new expiry counted from now; `false` when the key is missing. */
  async touch(key: string, timeout?: Timeout, version?: number): Promise<boolean> {
    return this.touchItem(this.makeAndValidateKey(key, version), this.backendTimeout(timeout));
  }

  /** `true` when something was deleted. */
  async delete(key: string, version?: number): Promise<boolean> {
    return this.deleteItem(this.makeAndValidateKey(key, version));
  }

  /** The keys found, under the caller's keys; missing keys are left out, stored `null`s kept. */
  async getMany<T = unknown>(keys: Iterable<string>, version?: number): Promise<Map<string, T>> {
    const originals = new Map<string, string>();
    for (const key of keys) originals.set(this.makeAndValidateKey(key, version), key);
    const result = new Map<string, T>();
    if (originals.size === 0) return result;
    const found = await this.getManyItems([...originals.keys()]);
    for (const [made, value] of found) result.set(originals.get(made)!, value as T);
    return result;
  }

  /**
   * The stored value; when missing, stores `defaultValue` (calling it first when it is a
   * function) with `add` and returns what the cache then holds. Concurrent calls for one key on
   * one cache share a single computation.
   */
  getOrSet<T>(key: string, defaultValue: T | (() => T | Promise<T>), timeout?: Timeout, version?: number): Promise<T> {
    try {
      const made = this.makeAndValidateKey(key, version);
      const backendTimeout = this.backendTimeout(timeout);
      const pending = this.pendingGetOrSet.get(made);
      if (pending) return pending as Promise<T>;
      const computation = this.computeGetOrSet(made, defaultValue, backendTimeout).finally(() => this.pendingGetOrSet.delete(made));
      this.pendingGetOrSet.set(made, computation);
      return computation;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async computeGetOrSet<T>(key: string, defaultValue: T | (() => T | Promise<T>), timeout: number | null): Promise<T> {
    const found = await this.getItem(key);
    if (found !== MISSING) return found as T;
    const value = typeof defaultValue === 'function' ? await (defaultValue as () => T | Promise<T>)() : defaultValue;
    await this.addItem(key, value, timeout);
    // Read again: another process may have won the add; if nothing is stored (timeout 0), the default.
    const stored = await this.getItem(key);
    return stored === MISSING ? value : (stored as T);
  }

  /** `true` when the key is stored (also when its value is `null` or `undefined`). */
  async hasKey(key: string, version?: number): Promise<boolean> {
    return this.hasItem(this.makeAndValidateKey(key, version));
  }

  /** Adds `delta` to a stored integer, keeping its expiry. Rejects with `KeyNotFoundError` when missing. */
  async incr(key: string, delta = 1, version?: number): Promise<number> {
    const result = await this.incrItem(this.makeAndValidateKey(key, version), checkDelta(delta));
    if (result === MISSING) throw new KeyNotFoundError(key);
    return result;
  }

  async decr(key: string, delta = 1, version?: number): Promise<number> {
    return this.incr(key, -checkDelta(delta), version);
  }

  /** Stores every entry; returns the caller's keys that could not be stored. */
  async setMany(data: Map<string, unknown> | Record<string, unknown>, timeout?: Timeout, version?: number): Promise<string[]> {
    const entries = data instanceof Map ? data.entries() : Object.entries(data);
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

  async deleteMany(keys: Iterable<string>, version?: number): Promise<void> {
    const made = [...keys].map((key) => this.makeAndValidateKey(key, version));
    if (made.length > 0) await this.deleteManyItems(made);
  }

  /** Moves a value to `version + delta` (the new key gets the default timeout, as in Django). */
  async incrVersion(key: string, delta = 1, version?: number): Promise<number> {
    const from = version ?? this.version;
    const value = await this.getItem(this.makeAndValidateKey(key, from));
    if (value === MISSING) throw new KeyNotFoundError(key);
    const to = from + checkDelta(delta);
    await this.set(key, value, undefined, to);
    await this.delete(key, from);
    return to;
  }

  async decrVersion(key: string, delta = 1, version?: number): Promise<number> {
    return this.incrVersion(key, -checkDelta(delta), version);
  }

  /** Releases connections and handles. The default has nothing to release. */
  async close(): Promise<void> {}
}

/** For backends that increment by reading and writing: the new value, or why it cannot be one. */
export function incrementedValue(key: string, current: unknown, delta: number): number {
  if (typeof current !== 'number' || !Number.isInteger(current)) throw new NonNumericValueError(key);
  const next = current + delta;
  if (!Number.isSafeInteger(next)) throw new NonNumericValueError(key, 'the result is outside the safe integer range');
  return next;
}
