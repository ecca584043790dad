import type { ConnectionRequest, ReplyDecoder, ReplyQueue } from './connection';
import type { ItemPlacer, ItemRanges } from './item-ranges';
import type { MemcachedItem } from './request';

/**
 * memcached's text protocol reads an exptime as a signed 32-bit integer: beyond that range it
 * silently wraps (a far expiry becomes "already expired", a negative one a few seconds), and a
 * number JavaScript prints in exponent form fails the command line, after which memcached reads
 * the value's bytes as commands. One range for both protocols, so a cache behaves alike on either.
 */
export const MIN_EXPTIME = -(2 ** 31);
export const MAX_EXPTIME = 2 ** 31 - 1;

/** The storage commands both protocols share; `cas` stores only if the item is unchanged since `gets`. */
export type StorageVerb = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

/** What to store: bytes, the client's flags, and for `cas` the token from `gets`. */
export interface StoreItem {
  value: Buffer;
  flags: number;
  cas?: bigint | undefined;
}

export interface RetrieveOptions {
  /** Also return CAS tokens (text `gets`; the binary protocol always does). */
  cas?: boolean | undefined;
  /** Give the items found this exptime (`gat`). */
  touchExptime?: number | undefined;
}

/**
 * `source[start, end)` in a Buffer of its own: an item handed out must not keep a whole socket
 * chunk alive. A source that is exactly the value (a decoder gathered it from several chunks)
 * already is one.
 */
export function copyOfRange(source: Buffer, start: number, end: number): Buffer {
  if (start === 0 && end === source.length) return source;
  const copy = Buffer.allocUnsafe(end - start);
  source.copy(copy, 0, start, end);
  return copy;
}

/** A request of protocol R whose promise settles with T. */
export type Sent<R, T> = R & { readonly promise: Promise<T> };

/**
 * One wire protocol: turns commands into requests and replies into results. Keys have passed
 * `checkKey`; exptimes are memcached's (0 never, up to 30 days relative, beyond that absolute,
 * negative already expired). The client above never knows which protocol it speaks.
 */
export interface MemcachedProtocol<R extends ConnectionRequest> {
  readonly name: 'text' | 'binary';
  createDecoder(queue: ReplyQueue<R>): ReplyDecoder;
  /** Found items by key; `touchExptime` also gives them a new expiry (`gat`). */
  retrieve(keys: readonly string[], options: RetrieveOptions): Sent<R, Map<string, MemcachedItem>>;
  /** Plain `get` of `keys`, the items found placed in key order by `placer` and read in place. */
  retrieveInPlace(keys: readonly string[], placer: ItemPlacer): Sent<R, ItemRanges>;
  /** One key's item, or `undefined` (no map to build: the common case). */
  retrieveOne(key: string, options: RetrieveOptions): Sent<R, MemcachedItem | undefined>;
  /** `true` when stored; `false` when the condition failed (add on an existing key, cas on a changed item). */
  store(verb: StorageVerb, key: string, item: StoreItem, exptime: number): Sent<R, boolean>;
  /** Stores every entry with `set` in one request; resolves with the keys that were not stored. */
  storeMany(entries: ReadonlyArray<readonly [string, StoreItem]>, exptime: number): Sent<R, string[]>;
  delete(key: string): Sent<R, boolean>;
  deleteMany(keys: readonly string[]): Sent<R, void>;
  /** The new value, or `undefined` when the key is missing. */
  counter(verb: 'incr' | 'decr', key: string, delta: bigint): Sent<R, bigint | undefined>;
  touch(key: string, exptime: number): Sent<R, boolean>;
  /**
   * Seconds the item has left, `null` when it never expires, `undefined` when it is missing. Only
   * the text protocol has it (meta get, memcached 1.6): the binary protocol cannot read an expiry.
   */
  timeLeft?(key: string): Sent<R, number | null | undefined>;
  flush(): Sent<R, void>;
  version(): Sent<R, string>;
  stats(): Sent<R, Map<string, string>>;
}
