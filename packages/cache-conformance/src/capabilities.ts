/**
 * What a backend declares about itself. The suite adapts to each answer: a capability a backend
 * lacks skips the tests that need it, with the reason in the skipped test's name.
 */
/** The kinds of values a backend round-trips, by its serializer. */
export type ValueDomain = 'v8' | 'json' | 'pickle';

export interface Capabilities {
  /** Concurrent `incr` from many callers loses no update (memcached, Redis). */
  atomicIncr: boolean;
  /**
   * `'signed'`: counters go below zero. `'stopAtZero'`: `decr` stops at 0, as memcached's own
   * counters (and Django's memcached backends) do.
   */
  counters: 'signed' | 'stopAtZero';
  /** `clear()` removes every key in the store, other prefixes' keys included (Django's rule). */
  clearIsGlobal: boolean;
  /**
   * Entries left after filling a 30-entry cache with 49 keys: `afterCull` with the default
   * cull frequency of 3, `afterZeroCull` with cull frequency 0. Django: locmem and file 29/19,
   * database 29/18. `false`: the backend does not cull.
   */
  culling: false | { afterCull: number; afterZeroCull: number };
  /** `touch` on an expired key brings it back (Django's database backend). */
  touchRevivesExpired: boolean;
  /** `ttl` reports a key's remaining time; `false`: it rejects with `NotSupportedError` (memcached's binary protocol). */
  ttl: boolean;
  /** Invalid keys reject with `InvalidCacheKey` instead of emitting a `CacheKeyWarning` (memcached). */
  validatesKeysStrictly: boolean;
  /**
   * Seconds per tick of the backend's clock. Time-based tests scale timeouts and sleeps by it:
   * in-process backends can use 0.5, Redis, memcached and SQL need 1.
   */
  timeoutGranularity: number;
  /** The longest made key the backend stores, in characters; `undefined`: no limit of its own. */
  maxKeyLength: number | undefined;
  /**
   * The values that round-trip: `'v8'` (Node's structured data), `'json'` (JSON's types only) or
   * `'pickle'` (what Python's pickle and a Django site share: no undefined, RegExp or typed arrays).
   */
  values: ValueDomain;
  /** Size of the value in the large-value test, in bytes. */
  largeValueBytes: number;
  /**
   * The largest value the store accepts, in bytes (memcached: its item size, 1 MiB by default);
   * a bigger one must reject with `ValueTooLargeError` and write nothing. `undefined`: no limit of
   * the backend's own (the bad-input suite's size test is skipped).
   */
  maxValueBytes: number | undefined;
}

export const DEFAULT_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  atomicIncr: false,
  counters: 'signed',
  clearIsGlobal: true,
  culling: false,
  touchRevivesExpired: false,
  ttl: true,
  validatesKeysStrictly: false,
  timeoutGranularity: 1,
  maxKeyLength: undefined,
  values: 'v8',
  largeValueBytes: 512 * 1024,
  maxValueBytes: undefined,
});

/** The declared capabilities over the defaults; rejects values that would make tests meaningless. */
export function resolveCapabilities(declared: Partial<Capabilities> = {}): Capabilities {
  const capabilities: Capabilities = { ...DEFAULT_CAPABILITIES };
  for (const [name, value] of Object.entries(declared)) {
    // An explicit `undefined` keeps the default, except for the limits, where it means "no limit".
    if (value !== undefined || name === 'maxKeyLength' || name === 'maxValueBytes') (capabilities as unknown as Record<string, unknown>)[name] = value;
  }
  if (!(capabilities.timeoutGranularity > 0)) {
    throw new RangeError(`capabilities.timeoutGranularity must be a positive number of seconds; got ${String(capabilities.timeoutGranularity)}`);
  }
  if (!Number.isInteger(capabilities.largeValueBytes) || capabilities.largeValueBytes < 1) {
    throw new RangeError(`capabilities.largeValueBytes must be a positive integer; got ${String(capabilities.largeValueBytes)}`);
  }
  return capabilities;
}
