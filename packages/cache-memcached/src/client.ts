import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidCacheBackendError, NotSupportedError } from '@cachette/cache-core';
import { binaryProtocol, saslPlainRequest } from './binary/commands';
import type { ConnectionOptions } from './connection';
import { GetBatcher } from './get-batcher';
import { ItemPlacer, ItemRanges } from './item-ranges';
import { checkKey } from './keys';
import { MAX_EXPTIME, MIN_EXPTIME, type MemcachedProtocol, type Sent, type StorageVerb, type StoreItem } from './protocol';
import type { MemcachedItem, PendingRequest } from './request';
import { ServerPool, parseServers, type ServerNode } from './servers';
import { textProtocol } from './text/commands';

export type { MemcachedItem } from './request';
export type { ItemRanges } from './item-ranges';
export type { StorageVerb } from './protocol';
export { parseServer, parseServers, type ServerSpec } from './servers';
export { KetamaRing, ketamaHash, type KetamaMember } from './ketama';

export interface MemcachedClientOptions {
  /** `'text'` or `'binary'`. Default `'text'`, or `'binary'` when a username is given (SASL needs it). */
  protocol?: 'text' | 'binary';
  /** SASL PLAIN credentials, sent on every new connection (binary protocol only). */
  username?: string;
  password?: string;
  /** `true` or Node TLS options (`ca`, `cert`, `key`, `servername`, …) for memcached's `-Z` TLS mode. */
  tls?: boolean | TlsConnectionOptions;
  /** Seconds to establish a connection, TLS included. Default 1. */
  connectTimeout?: number;
  /** Seconds a server may leave outstanding requests without any reply before they fail. Default 1. */
  operationTimeout?: number;
  /** Connections per server. Default 1: requests are pipelined, so one connection is usually fastest. */
  poolSize?: number;
  /** Consecutive connection failures after which a server leaves the ring. Default 2. */
  failureLimit?: number;
  /** Seconds a server that left the ring stays out before it is tried again. Default 2. */
  retryTimeout?: number;
}

export interface StoreOptions {
  /** The item's 32-bit client flags. Default 0. */
  flags?: number;
  /** memcached exptime: 0 never, up to 30 days relative seconds, beyond that a Unix time, negative expired. Default 0. */
  exptime?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one connection carries requests of every result type
type AnyRequest = PendingRequest<any>;

function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidCacheBackendError(`Memcached option ${name} must be a positive number; got ${String(value)}`);
  }
  return value;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  const number = positiveNumber(name, value, fallback);
  if (!Number.isInteger(number)) throw new InvalidCacheBackendError(`Memcached option ${name} must be an integer; got ${number}`);
  return number;
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function checkFlags(flags: number): number {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) throw new RangeError(`Memcached flags are a 32-bit unsigned integer; got ${flags}`);
  return flags;
}

function checkExptime(exptime: number): number {
  if (!Number.isInteger(exptime) || exptime < MIN_EXPTIME || exptime > MAX_EXPTIME) {
    throw new RangeError(`A memcached exptime is an integer number of seconds from ${MIN_EXPTIME} to ${MAX_EXPTIME}; got ${exptime}`);
  }
  return exptime;
}

function toDelta(delta: number | bigint): bigint {
  const big = typeof delta === 'bigint' ? delta : Number.isSafeInteger(delta) ? BigInt(delta) : undefined;
  if (big === undefined || big < 0n || big >= 1n << 64n) throw new RangeError(`An increment is an unsigned 64-bit integer; got ${String(delta)}`);
  return big;
}

function connectionOptions(options: MemcachedClientOptions): Omit<ConnectionOptions<AnyRequest>, 'address' | 'onDown' | 'onUp' | 'createDecoder'> {
  const { username, password } = options;
  if ((username === undefined) !== (password === undefined)) {
    throw new InvalidCacheBackendError('Memcached SASL authentication needs both username and password');
  }
  if (username !== undefined && options.protocol === 'text') {
    throw new InvalidCacheBackendError("Memcached SASL authentication needs protocol: 'binary' (a server started with -S speaks only the binary protocol)");
  }
  return {
    tls: options.tls === true ? {} : options.tls || undefined,
    connectTimeoutMs: positiveNumber('connectTimeout', options.connectTimeout, 1) * 1000,
    operationTimeoutMs: positiveNumber('operationTimeout', options.operationTimeout, 1) * 1000,
    minBackoffMs: 50,
    maxBackoffMs: 2000,
    handshake:
      username === undefined
        ? undefined
        : () => {
            const request = saslPlainRequest(username, password!);
            return { request, done: request.promise };
          },
  };
}

/**
 * A memcached client over the text or binary protocol, for one server or a ketama ring of several.
 *
 * Values are Buffers (strings are stored as UTF-8) with 32-bit flags of your choice; exptimes are
 * memcached's own. Keys are checked before anything is written: empty, over 250 bytes, or holding
 * whitespace or control characters throws `InvalidCacheKey`. Multi-key operations send one
 * request per server, in parallel.
 */
export class MemcachedClient {
  readonly protocol: 'text' | 'binary';
  private readonly wire: MemcachedProtocol<AnyRequest>;
  private readonly pool: ServerPool<AnyRequest>;
  private readonly batchers = new Map<ServerNode<AnyRequest>, GetBatcher>();

  constructor(servers: string | readonly string[], options: MemcachedClientOptions = {}) {
    if (options.protocol !== undefined && options.protocol !== 'text' && options.protocol !== 'binary') {
      throw new InvalidCacheBackendError(`Memcached option protocol must be 'text' or 'binary'; got ${String(options.protocol)}`);
    }
    this.protocol = options.protocol ?? (options.username === undefined ? 'text' : 'binary');
    // Each protocol makes its own requests and decodes their replies, so the two never mix.
    this.wire = (this.protocol === 'binary' ? binaryProtocol : textProtocol) as MemcachedProtocol<AnyRequest>;
    this.pool = new ServerPool<AnyRequest>(
      parseServers(servers),
      positiveInteger('poolSize', options.poolSize, 1),
      { ...connectionOptions(options), createDecoder: (queue) => this.wire.createDecoder(queue) },
      {
        failureLimit: positiveInteger('failureLimit', options.failureLimit, 2),
        retryTimeoutMs: positiveNumber('retryTimeout', options.retryTimeout, 2) * 1000,
      },
    );
  }

  /** The servers, as `host:port` or `unix:/path`. */
  get servers(): string[] {
    return this.pool.nodes.map((node) => node.name);
  }

  /** The item under `key`, or `undefined`. Gets issued while its server is busy go out as one multi-get. */
  get(key: string): Promise<MemcachedItem | undefined> {
    try {
      checkKey(key);
      const node = this.pool.nodeFor(key);
      if (node.pending === 0) return this.sendTo(node, this.wire.retrieveOne(key, {}));
      return this.batcherFor(node).get(key);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Like `get`, with the item's CAS token for `cas()`. */
  gets(key: string): Promise<MemcachedItem | undefined> {
    return this.send(key, () => this.wire.retrieveOne(key, { cas: true }));
  }

  /** Gets the item and gives it a new exptime (`gat`). */
  getAndTouch(key: string, exptime: number): Promise<MemcachedItem | undefined> {
    return this.send(key, () => this.wire.retrieveOne(key, { touchExptime: checkExptime(exptime) }));
  }

  /** The items found, by key: one multi-get per server, sent in parallel. */
  async getMany(keys: Iterable<string>, options: { cas?: boolean } = {}): Promise<Map<string, MemcachedItem>> {
    // Repeated keys need no filtering: the server answers each once per request, the map keeps one.
    const list = Array.isArray(keys) ? (keys as readonly string[]) : [...keys];
    list.forEach(checkKey);
    const groups = this.pool.groupByNode(list);
    if (groups.size === 0) return new Map();
    if (groups.size === 1) {
      const [node, group] = groups.entries().next().value!;
      return this.sendTo(node, this.wire.retrieve(group, options));
    }
    const found = new Map<string, MemcachedItem>();
    const parts = await Promise.all([...groups].map(([node, group]) => this.sendTo(node, this.wire.retrieve(group, options))));
    for (const part of parts) for (const [key, item] of part) found.set(key, item);
    return found;
  }

  /**
   * The items of `keys` in key order, read in place (see `ItemRanges`): what `getMany` finds,
   * without a Buffer, an item and a map entry per value, for a caller that decodes every value
   * itself (`MemcachedCache.getMany`). Keys may repeat; plain `get`, no CAS.
   */
  getManyInPlace(keys: readonly string[]): Promise<ItemRanges> {
    try {
      keys.forEach(checkKey);
      const ranges = new ItemRanges(keys.length);
      if (keys.length === 0) return Promise.resolve(ranges);
      // One server: its reply lies in key order as it is, with no positions to look up.
      if (this.pool.nodes.length === 1) return this.sendTo(this.pool.nodeFor(keys[0]!), this.wire.retrieveInPlace(keys, new ItemPlacer(ranges, keys, undefined)));
      return this.getFromEachServerInPlace(keys, ranges);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  set(key: string, value: Buffer | string, options?: StoreOptions): Promise<boolean> {
    return this.store('set', key, value, options);
  }

  /** Stores only if the key is absent. */
  add(key: string, value: Buffer | string, options?: StoreOptions): Promise<boolean> {
    return this.store('add', key, value, options);
  }

  /** Stores only if the key is present. */
  replace(key: string, value: Buffer | string, options?: StoreOptions): Promise<boolean> {
    return this.store('replace', key, value, options);
  }

  /** Stores only if the item is unchanged since `gets` gave `cas`. */
  cas(key: string, value: Buffer | string, cas: bigint, options?: StoreOptions): Promise<boolean> {
    return this.store('cas', key, value, options, cas);
  }

  /** Adds bytes after the stored value (flags and exptime unchanged); `false` when missing. */
  append(key: string, value: Buffer | string): Promise<boolean> {
    return this.store('append', key, value);
  }

  prepend(key: string, value: Buffer | string): Promise<boolean> {
    return this.store('prepend', key, value);
  }

  /** Sets every entry (one pipelined request per server); resolves with the keys not stored. */
  async setMany(entries: Iterable<readonly [string, { value: Buffer | string; flags?: number }]>, exptime = 0): Promise<string[]> {
    const items = new Map<string, StoreItem>();
    for (const [key, { value, flags = 0 }] of entries) {
      checkKey(key);
      items.set(key, { value: toBuffer(value), flags: checkFlags(flags) });
    }
    checkExptime(exptime);
    const groups = this.pool.groupByNode([...items.keys()]);
    const failed = await Promise.all(
      [...groups].map(([node, keys]) => this.sendTo(node, this.wire.storeMany(keys.map((key) => [key, items.get(key)!] as const), exptime))),
    );
    return failed.flat();
  }

  /** Adds `delta` to a decimal value; the new value, or `undefined` when the key is missing. Wraps at 2^64. */
  incr(key: string, delta: number | bigint = 1): Promise<bigint | undefined> {
    return this.send(key, () => this.wire.counter('incr', key, toDelta(delta)));
  }

  /** Subtracts `delta`, stopping at 0. */
  decr(key: string, delta: number | bigint = 1): Promise<bigint | undefined> {
    return this.send(key, () => this.wire.counter('decr', key, toDelta(delta)));
  }

  /** `true` when the key existed. */
  delete(key: string): Promise<boolean> {
    return this.send(key, () => this.wire.delete(key));
  }

  async deleteMany(keys: Iterable<string>): Promise<void> {
    const list = Array.isArray(keys) ? (keys as readonly string[]) : [...keys];
    list.forEach(checkKey);
    await Promise.all([...this.pool.groupByNode(list)].map(([node, group]) => this.sendTo(node, this.wire.deleteMany(group))));
  }

  /** Gives the item a new exptime; `false` when missing. */
  touch(key: string, exptime: number): Promise<boolean> {
    return this.send(key, () => this.wire.touch(key, checkExptime(exptime)));
  }

  /**
   * Seconds the item has left (whole seconds, memcached's clock), `null` when it never expires,
   * `undefined` when missing: meta get (`mg <key> t`, memcached 1.6 or later). The binary protocol
   * has no such command and rejects with `NotSupportedError`.
   */
  ttl(key: string): Promise<number | null | undefined> {
    if (this.wire.timeLeft === undefined) {
      return Promise.reject(new NotSupportedError("Memcached's binary protocol cannot report a key's remaining time; the text protocol can (memcached 1.6 or later)"));
    }
    return this.send(key, () => this.wire.timeLeft!(key));
  }

  /** Invalidates every item on every server (`flush_all`), whoever stored it. */
  async flushAll(): Promise<void> {
    await this.everyServer(() => this.wire.flush());
  }

  /** Each server's version, by server. */
  version(): Promise<Map<string, string>> {
    return this.everyServer(() => this.wire.version());
  }

  /** Each server's general statistics, by server. */
  stats(): Promise<Map<string, Map<string, string>>> {
    return this.everyServer(() => this.wire.stats());
  }

  /** Lets outstanding requests finish, then closes every connection. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private store(verb: StorageVerb, key: string, value: Buffer | string, options: StoreOptions = {}, cas?: bigint): Promise<boolean> {
    return this.send(key, () => {
      const item: StoreItem = { value: toBuffer(value), flags: checkFlags(options.flags ?? 0), cas };
      return this.wire.store(verb, key, item, checkExptime(options.exptime ?? 0));
    });
  }

  /** Checks the key and the request's arguments, then sends it to the server that holds the key. */
  private send<T>(key: string, makeRequest: () => Sent<AnyRequest, T>): Promise<T> {
    try {
      checkKey(key);
      return this.sendTo(this.pool.nodeFor(key), makeRequest());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One multi-get per server, in parallel, each placing its items at its keys' positions in `ranges`. */
  private async getFromEachServerInPlace(keys: readonly string[], ranges: ItemRanges): Promise<ItemRanges> {
    await Promise.all(
      [...this.positionsByNode(keys)].map(([node, positions]) => {
        const group = positions.map((position) => keys[position]!);
        return this.sendTo(node, this.wire.retrieveInPlace(group, new ItemPlacer(ranges, group, Int32Array.from(positions))));
      }),
    );
    return ranges;
  }

  /** Where each server's keys lie in `keys`, by server. */
  private positionsByNode(keys: readonly string[]): Map<ServerNode<AnyRequest>, number[]> {
    const groups = new Map<ServerNode<AnyRequest>, number[]>();
    keys.forEach((key, position) => {
      const node = this.pool.nodeFor(key);
      const group = groups.get(node);
      if (group) group.push(position);
      else groups.set(node, [position]);
    });
    return groups;
  }

  private batcherFor(node: ServerNode<AnyRequest>): GetBatcher {
    let batcher = this.batchers.get(node);
    if (!batcher) {
      batcher = new GetBatcher((keys) => this.sendTo(node, this.wire.retrieve(keys, {})));
      this.batchers.set(node, batcher);
    }
    return batcher;
  }

  private sendTo<T>(node: ServerNode<AnyRequest>, request: Sent<AnyRequest, T>): Promise<T> {
    this.batchers.get(node)?.flush();
    node.send(request);
    return request.promise;
  }

  private async everyServer<T>(makeRequest: () => Sent<AnyRequest, T>): Promise<Map<string, T>> {
    const results = await Promise.all(this.pool.nodes.map((node) => this.sendTo(node, makeRequest())));
    return new Map(this.pool.nodes.map((node, index) => [node.name, results[index]!]));
  }
}
