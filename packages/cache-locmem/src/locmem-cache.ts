import {
  BaseCache,
  CULLING_OPTIONS,
  MISSING,
  cullCount,
  declareOptions,
  incrementedValue,
  nowInSeconds,
  readCullingOptions,
  resolveSerializer,
  secondsUntil,
  unwrapStale,
  v8Serializer,
  type CacheParams,
  type CullingOptions,
  type Missing,
  type RememberedKey,
  type Serializer,
  type SerializerOption,
  type StoreStats,
} from '@cachette/cache-core';
import { NEVER, storeFor, type LruStore } from './lru';
import { NOT_PLAIN, copyPlainTree, copyTree, isImmutable } from './plain-copy';

export interface LocMemOptions extends CullingOptions {
  /** How values other than strings, numbers, booleans, null, undefined and bigints are copied. Default `'v8'`. */
  serializer?: SerializerOption;
}

// Enough for a hot set of keys; a larger maxEntries raises it.
const MIN_REMEMBERED_KEYS = 1000;

/** Stored objects are copies: serialized ones are Buffers, the others plain trees. */
function isCopy(stored: unknown): stored is object {
  return typeof stored === 'object' && stored !== null;
}

function storeName(location: unknown): string {
  if (location === undefined) return '';
  if (typeof location === 'string') return location;
  throw new TypeError(`A LocMemCache location is the name of its store, a string; got ${Array.isArray(location) ? 'an array' : typeof location}`);
}

function storedExpiry(timeout: number | null): number {
  return timeout === null ? NEVER : timeout;
}

/**
 * Django's LocMemCache: a least-recently-used store per `location`, shared by every instance in
 * the process with that location. Culls `entries / cullFrequency` of the least recently used
 * entries when it holds `maxEntries`; drops expired entries when it meets them (no timers).
 * Keeps copies: immutable values as they are, everything else copied on `set` and again on each
 * `get`, so neither the caller's object nor the one `get` returns is ever the cached one.
 *
 * Primitives answer synchronously and read the clock at most once, only for entries that expire.
 */
export class LocMemCache extends BaseCache {
  static override readonly knownOptions = declareOptions<LocMemOptions>({ ...CULLING_OPTIONS, serializer: 'url' });

  readonly location: string;
  readonly maxEntries: number;
  readonly cullFrequency: number;
  readonly serializer: Serializer;
  private readonly store: LruStore;
  /**
   * With the v8 serializer, immutable values and plain trees are copied without it, to the same
   * result. Any other serializer sees every value: it was chosen to constrain or transform them.
   */
  private readonly copiesWithoutSerializer: boolean;

  constructor(params: CacheParams = {}) {
    super(params);
    const options = (params.options ?? {}) as LocMemOptions;
    const { maxEntries, cullFrequency } = readCullingOptions(options);
    this.location = storeName(params.location);
    this.maxEntries = maxEntries;
    this.cullFrequency = cullFrequency;
    this.serializer = resolveSerializer(options.serializer);
    this.copiesWithoutSerializer = this.serializer === v8Serializer;
    this.store = storeFor(this.location);
    // Every entry's key remembered, with its slot: a hit then costs one lookup.
    this.madeKeys.growTo(Math.max(MIN_REMEMBERED_KEYS, maxEntries));
  }

  /** The hot path: a key used before finds its slot without building or hashing a string. */
  override get<T = unknown>(key: string): Promise<T | undefined>;
  override get<T = unknown>(key: string, defaultValue: T, version?: number): Promise<T>;
  override get<T = unknown>(key: string, defaultValue?: T, version?: number): Promise<T | undefined> {
    // An observed call takes the base class's path, which publishes and counts it.
    if (this.isObserved()) return super.get(key, defaultValue as T, version);
    try {
      const slot = this.liveSlot(this.slotOfKey(key, version));
      if (slot === undefined) return Promise.resolve(defaultValue);
      this.store.markUsed(slot);
      return this.settledValue(slot) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `get`'s hot path without its Promise. */
  override getAwaitable<T = unknown>(key: string, defaultValue?: T, version?: number): T | undefined {
    if (this.isObserved()) return super.getAwaitable(key, defaultValue, version) as T | undefined;
    const value = this.readHit(this.liveSlot(this.slotOfKey(key, version)));
    return value === MISSING ? defaultValue : (unwrapStale(value) as T);
  }

  /** One pass with one clock read, in the caller's keys: no made-key maps to translate back. */
  override getMany<T = unknown>(keys: Iterable<string>, version?: number): Promise<Map<string, T>> {
    // BaseCache's path also refuses a string, which is iterable by character, with a TypeError.
    if (this.isObserved() || typeof keys === 'string') return super.getMany(keys, version);
    try {
      const now = nowInSeconds();
      const found = new Map<string, T>();
      for (const key of keys) {
        const value = this.readHit(this.liveSlot(this.slotOfKey(key, version), now));
        if (value !== MISSING) found.set(key, unwrapStale(value) as T);
      }
      return Promise.resolve(found);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The store is this process's: a `getOrSet` lock keeps out the other callers of this process only. */
  override get locksAcrossProcesses(): boolean {
    return false;
  }

  // ---- primitives ------------------------------------------------------------------------------

  protected getItem(key: string): unknown {
    return this.readHit(this.liveSlot(this.store.slotOf(key)));
  }

  protected setItem(key: string, value: unknown, timeout: number | null): void {
    this.storeValue(key, this.toStored(value), timeout);
  }

  protected addItem(key: string, value: unknown, timeout: number | null): boolean {
    const stored = this.toStored(value);
    const slot = this.store.slotOf(key);
    // As Django, an expired entry stays until it is overwritten: it counts towards culling.
    if (slot !== undefined && !this.hasExpired(slot)) return false;
    this.storeValue(key, stored, timeout);
    return true;
  }

  protected touchItem(key: string, timeout: number | null): boolean {
    const slot = this.store.slotOf(key);
    // Django leaves an expired entry in place here; the next read drops it.
    if (slot === undefined || this.hasExpired(slot)) return false;
    this.store.expiries[slot] = storedExpiry(timeout);
    return true;
  }

  protected deleteItem(key: string): boolean {
    const slot = this.store.slotOf(key);
    if (slot === undefined) return false;
    this.store.remove(slot);
    return true;
  }

  protected incrItem(key: string, delta: number): number | Missing {
    const slot = this.liveSlot(this.store.slotOf(key));
    if (slot === undefined) return MISSING;
    const next = incrementedValue(key, this.readValue(slot), delta);
    this.store.replaceValue(slot, next);
    this.store.markUsed(slot);
    return next;
  }

  protected override async hasItem(key: string): Promise<boolean> {
    return this.liveSlot(this.store.slotOf(key)) !== undefined;
  }

  /** Like `hasKey`, asking does not count as a use: the entry keeps its place in the LRU order. */
  protected override ttlItem(key: string): number | null | Missing {
    const slot = this.liveSlot(this.store.slotOf(key));
    if (slot === undefined) return MISSING;
    const expiry = this.store.expiries[slot]!;
    return expiry === NEVER ? null : secondsUntil(expiry);
  }

  /** Copies every value first, so a value the serializer rejects leaves the cache unchanged. */
  protected override setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    try {
      const copies = entries.map(([key, value]) => [key, this.toStored(value)] as const);
      for (const [key, stored] of copies) this.storeValue(key, stored, timeout);
      return Promise.resolve([]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  protected override deleteManyItems(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.deleteItem(key);
    return Promise.resolve();
  }

  async clear(): Promise<void> {
    this.store.clear();
  }

  /**
   * The entries of this location's store in this process (every instance and prefix sharing it),
   * expired ones no operation has met yet included, and this instance's `maxEntries`. Values are
   * not sized, so there is no `bytes`.
   */
  override async storeStats(): Promise<StoreStats> {
    return { entries: this.store.size, maxEntries: this.maxEntries };
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The slot holding the caller's key (live or expired), or `undefined`. */
  private slotOfKey(key: string, version: number | undefined): number | undefined {
    const remembered = this.madeKeys.lookup(key, version, this.version);
    if (remembered === undefined) return this.store.slotOf(this.makeAndValidateKey(key, version));
    return this.slotOfRemembered(remembered);
  }

  private slotOfRemembered(remembered: RememberedKey): number | undefined {
    if (this.store.keyAt(remembered.slot) === remembered.made) return remembered.slot;
    const slot = this.store.slotOf(remembered.made);
    if (slot !== undefined) remembered.slot = slot;
    return slot;
  }

  /** `slot` when it holds a live entry; an expired entry is removed (as Django's get, hasKey, incr). */
  private liveSlot(slot: number | undefined, now?: number): number | undefined {
    if (slot === undefined) return undefined;
    if (this.hasExpired(slot, now)) {
      this.store.remove(slot);
      return undefined;
    }
    return slot;
  }

  /** Reads the clock only for entries that can expire, unless a loop passes the `now` it read once. */
  private hasExpired(slot: number, now?: number): boolean {
    const expiry = this.store.expiries[slot]!;
    return expiry !== NEVER && expiry <= (now ?? nowInSeconds());
  }

  /** A Promise of the value in a live slot: shared between hits for a value kept as is. */
  private settledValue(slot: number): Promise<unknown> {
    const settled = this.store.settledValues[slot];
    if (settled !== undefined) return settled;
    const stored = this.store.values[slot];
    // Objects are copies (a stale envelope among them, which readers see the value of).
    if (isCopy(stored)) return Promise.resolve(unwrapStale(this.copyOut(stored)));
    return (this.store.settledValues[slot] = Promise.resolve(stored));
  }

  /** The value of a live slot, marked as used, or `MISSING`. */
  private readHit(slot: number | undefined): unknown {
    if (slot === undefined) return MISSING;
    this.store.markUsed(slot);
    return this.readValue(slot);
  }

  private storeValue(key: string, stored: unknown, timeout: number | null): void {
    if (this.store.size >= this.maxEntries) this.store.removeOldest(cullCount(this.store.size, this.cullFrequency));
    this.store.set(key, stored, storedExpiry(timeout));
  }

  /**
   * What the store keeps for `value`. With the v8 serializer, immutable values are kept as they
   * are and plain trees as a copy made by hand (the same result, much faster); the rest, and
   * everything under another serializer, is serialized.
   */
  private toStored(value: unknown): unknown {
    if (this.copiesWithoutSerializer) {
      if (isImmutable(value)) return value;
      if (typeof value === 'object') {
        const copy = copyPlainTree(value!);
        if (copy !== NOT_PLAIN) return copy;
      }
    }
    return this.serializer.serialize(value);
  }

  private readValue(slot: number): unknown {
    const stored = this.store.values[slot];
    return isCopy(stored) ? this.copyOut(stored) : stored;
  }

  /** A fresh copy of a stored copy, for the caller to keep. */
  private copyOut(stored: object): unknown {
    return Buffer.isBuffer(stored) ? this.serializer.deserialize(stored) : copyTree(stored);
  }
}
