import {
  BaseCache,
  CacheConnectionError,
  CacheTimeoutError,
  MISSING,
  foundInOrder,
  NonNumericValueError,
  OutageReporter,
  ValueTooLargeError,
  checkTimeout,
  checkUrlParameters,
  declareOptions,
  deserializeRange,
  resolveSerializer,
  serverStoreStats,
  type CacheParams,
  type ChangeTracking,
  type Missing,
  type ParsedCacheUrl,
  type Serializer,
  type SerializerOption,
  type StoreStats,
  type Timeout,
} from '@cachette/cache-core';
import type { RedisClient, RedisClientOptions } from './client';
import { RedisCluster, isSlotError, type ClusterOptions, type ReadFrom } from './cluster/cluster-client';
import { parseInfo } from './commands';
import { Compressor, decompress, isCompressed, type CompressionOptions } from './compression';
import { RELEASE_LOCK, RedisLock, type LockOptions } from './lock';
import { RedisReplyError } from './resp/reply-error';
import { djangoRedisSerializer } from './django-format';
import { defineScript } from './script';
import { trackingConnectionOptions } from './tracking';
import { ClusterTopology, ReplicatedTopology, ShardedTopology, type KeyGroup, type Topology } from './topology';
import { asClusterUrl, isClusterUrl, parseClusterUrl } from './url';

export interface RedisCacheOptions extends Omit<RedisClientOptions, 'url' | 'host' | 'port' | 'path'> {
  /** `'v8'` (default), `'json'` or your own `Serializer`. Safe integers are always decimal text. */
  serializer?: SerializerOption;
  /** Compress serialized values above a size threshold. Default: off. */
  compress?: CompressionOptions | false;
  /** A server that cannot be reached reads as a miss, writes report failure; warned once per outage. Default `false`. */
  ignoreExceptions?: boolean;
  /**
   * The largest stored value, in bytes (after serialization and compression); a larger one is
   * refused with `ValueTooLargeError` before it is sent. Default 512 MiB, Redis's own
   * `proto-max-bulk-len`: a server given a longer argument answers an error and closes the
   * connection, failing every other command in flight on it. Set it to the server's value when
   * that is lower.
   */
  maxValueBytes?: number;
  /** `'consistent'`: every location is an independent primary on a hash ring. Default: the first location is the primary, the others replicas. */
  sharding?: 'consistent';
  /**
   * Redis Cluster: `true`, or the cluster's settings and seed `nodes` (`host:port`). Implied by a
   * `redis+cluster://` location, whose nodes join `nodes`.
   */
  cluster?: boolean | (ClusterOptions & { nodes?: string[] });
  /** Redis Cluster: where reads go, `'primary'` (default), `'replica'` or `'prefer-replica'`. */
  readFrom?: ReadFrom;
  /** After each write, wait (`WAIT`) until this many replicas have it, so reads from replicas see it. Default 0. */
  waitReplicas?: number;
  /** Milliseconds `WAIT` may take. Default 100. */
  waitReplicasTimeout?: number;
  /** `COUNT` hint per `SCAN` page for `deletePattern` and `iterKeys`. Default 100. */
  scanCount?: number;
  /** Turns a stored key back into the caller's key in `iterKeys`; needed only with a custom `keyFunction`. */
  reverseKeyFunction?: (madeKey: string) => string;
  /**
   * Server-assisted invalidation (`CLIENT TRACKING`, Redis 6+, RESP3): told which keys other
   * clients changed, for a copy kept in the process (what `TieredCache` passes).
   */
  tracking?: ChangeTracking;
}

export interface RedisCacheParams extends CacheParams {
  options?: RedisCacheOptions;
}

/** The cache's options; those a URL's query can carry are marked `'url'`. */
const REDIS_OPTIONS = declareOptions<RedisCacheOptions>({
  serializer: 'url',
  compress: 'object',
  ignoreExceptions: 'url',
  maxValueBytes: 'url',
  sharding: 'url',
  cluster: 'url',
  readFrom: 'url',
  waitReplicas: 'url',
  waitReplicasTimeout: 'url',
  scanCount: 'url',
  reverseKeyFunction: 'object',
  tracking: 'object',
  poolSize: 'url',
  tls: 'url',
  username: 'url',
  password: 'url',
  db: 'url',
  protocol: 'url',
  clientName: 'url',
  readOnly: 'url',
  connectTimeout: 'url',
  commandTimeout: 'url',
  reconnect: 'object',
  offlineQueue: 'url',
  keepAlive: 'url',
  onPush: 'object',
  setupCommands: 'object',
  onSessionEnd: 'object',
});

const DEFAULT_LOCATION = 'redis://127.0.0.1:6379';
/** Redis's default `proto-max-bulk-len`: the longest argument a server accepts. */
const DEFAULT_MAX_VALUE_BYTES = 512 * 1024 * 1024;
/** What `storeStats()` takes from each primary's `INFO`, and `dbsize` (the selected database's `DBSIZE`). */
const SERVER_STATS = ['redis_version', 'uptime_in_seconds', 'used_memory', 'maxmemory', 'keyspace_hits', 'keyspace_misses', 'evicted_keys', 'dbsize'];

// Increments only an existing integer, atomically, and refuses results JavaScript cannot hold
// exactly (undoing the increment, so the stored value never changes on a refusal).
const INCREMENT_EXISTING = defineScript(
  "if redis.call('EXISTS', KEYS[1]) == 0 then return false end " +
    "local value = redis.call('INCRBY', KEYS[1], ARGV[1]) " +
    "if value > 9007199254740991 or value < -9007199254740991 then " +
    "redis.call('DECRBY', KEYS[1], ARGV[1]) return redis.error_reply('UNSAFE result outside the safe integer range') end " +
    'return value',
);
const PERSIST_EXISTING = defineScript("if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('PERSIST', KEYS[1]) return 1");

/** Escapes glob characters, so a prefix or version is matched literally in a SCAN pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function locationList(location: CacheParams['location']): string[] {
  if (location === undefined || location === '') return [DEFAULT_LOCATION];
  const list = typeof location === 'string' ? location.split(/[;,]/) : [...location];
  return list.map((entry) => entry.trim()).filter((entry) => entry !== '');
}

/** What a location URL's own query may carry: the connection parameters `parseRedisUrl` reads. */
const LOCATION_QUERY = declareOptions<Pick<RedisClientOptions, 'db' | 'password' | 'username' | 'protocol' | 'clientName'>>({
  db: 'url',
  password: 'url',
  username: 'url',
  protocol: 'url',
  clientName: 'url',
});

/**
 * Refuses what no one would read in a location's query: the cache's own parameters and options
 * belong in the configuration object (or a cache URL). Each entry of the list is checked (a
 * cluster URL's last node carries the query).
 */
function checkLocationUrls(location: CacheParams['location']): void {
  for (const url of locationList(location)) {
    const queryStart = url.indexOf('?');
    if (queryStart !== -1) checkUrlParameters({ url, scheme: 'redis', query: new URLSearchParams(url.slice(queryStart + 1)) }, LOCATION_QUERY, []);
  }
}

/** A cache URL as a location: its query keeps the connection parameters, the others being the cache's (already read). */
function locationOfUrl(parsed: ParsedCacheUrl): string {
  const kept = [...parsed.query].filter(([name]) => LOCATION_QUERY.options.includes(name) || LOCATION_QUERY.urlParameters(parsed.scheme).includes(name));
  const query = new URLSearchParams(kept).toString();
  return `${parsed.scheme}://${parsed.body}${query ? `?${query}` : ''}`;
}

/** A cluster's seeds: the nodes of its locations (`redis+cluster://…`, `redis://h:1`, `h:1`) and of `options.cluster.nodes`. */
function clusterTopology(location: CacheParams['location'], options: RedisCacheOptions): ClusterTopology {
  const { nodes = [], ...clusterOptions } = typeof options.cluster === 'object' ? options.cluster : {};
  const seeds: string[] = [];
  let shared: RedisClientOptions = {};
  for (const url of [...(location === undefined || location === '' ? [] : typeof location === 'string' ? [location] : location), ...nodes]) {
    const parsed = parseClusterUrl(asClusterUrl(url));
    seeds.push(...parsed.seeds);
    shared = { ...parsed.options, ...shared };
  }
  return new ClusterTopology(new RedisCluster(seeds, { ...shared, ...options }, { readFrom: options.readFrom, ...clusterOptions }));
}

function createTopology(location: CacheParams['location'], options: RedisCacheOptions): Topology {
  const cluster = options.cluster || (typeof location === 'string' && isClusterUrl(location)) || (Array.isArray(location) && location.some(isClusterUrl));
  if (cluster) {
    if (options.sharding !== undefined) throw new TypeError('Redis options cluster and sharding cannot be combined: a cluster shards by itself');
    return clusterTopology(location, options);
  }
  if (options.readFrom !== undefined) throw new TypeError('Redis option readFrom applies to a Redis Cluster; with replicas, every location after the first is read from');
  const locations = locationList(location);
  return options.sharding === 'consistent' ? new ShardedTopology(locations, options) : new ReplicatedTopology(locations, options);
}

/**
 * How values become stored bytes: with `pickle`, django-redis's format (so a Django site reads
 * and writes the same entries); otherwise the serializer's bytes in Cachette's compression framing.
 */
function valueCodec(options: RedisCacheOptions): Serializer {
  const serializer = resolveSerializer(options.serializer);
  if (serializer.name === 'pickle') return djangoRedisSerializer(serializer, options.compress || undefined);
  const compressor = options.compress ? new Compressor(options.compress) : undefined;
  return {
    name: serializer.name,
    serialize: (value) => {
      const bytes = serializer.serialize(value);
      return compressor ? compressor.compress(bytes) : bytes;
    },
    deserialize: (bytes) => serializer.deserialize(decompress(bytes)),
    deserializeRange: (data, start, end) =>
      isCompressed(data, start, end) ? serializer.deserialize(decompress(data.subarray(start, end))) : deserializeRange(serializer, data, start, end),
  };
}

/** A `PTTL` reply: -2 for a missing key, -1 for one without an expiry, else the milliseconds left. */
function fromPttl(milliseconds: number): number | null | Missing {
  if (milliseconds === -2) return MISSING;
  return milliseconds === -1 ? null : milliseconds / 1000;
}

/** An error reply to one key's command (a wrong type, out of memory), not an answer about its slot. */
function failsOnlyItsKey(error: unknown): boolean {
  return error instanceof RedisReplyError && !isSlotError(error);
}

function isOutage(error: unknown): boolean {
  return error instanceof CacheConnectionError || error instanceof CacheTimeoutError;
}

/**
 * Django's RedisCache on Cachette's own RESP client, with django-redis's extras (`deletePattern`,
 * `iterKeys`, `expire`, `persist`, `lock`, `ignoreExceptions`, raw client access; `ttl` is core's).
 *
 * Timeouts are kept to the millisecond (`SET ... PX`): 0.5 s stores for half a second, where
 * Django truncates to whole seconds. `clear()` runs `FLUSHDB`: it empties the whole database,
 * every prefix and every other application's keys in it included.
 */
export class RedisCache extends BaseCache {
  static override readonly knownOptions = REDIS_OPTIONS;

  readonly topology: Topology;
  private readonly codec: Serializer;
  private readonly options: RedisCacheOptions;
  private readonly maxValueBytes: number;
  private readonly outages = new OutageReporter(this, { text: 'Redis cache unavailable, ignoring (ignoreExceptions)', type: 'CacheConnectionWarning' });

  constructor(params: RedisCacheParams = {}) {
    super(params);
    const options = (this.options = params.options ?? {});
    checkLocationUrls(params.location);
    this.codec = valueCodec(options);
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    if (!(this.maxValueBytes > 0)) throw new RangeError(`Redis option maxValueBytes must be a positive number; got ${String(options.maxValueBytes)}`);
    if (options.sharding !== undefined && options.sharding !== 'consistent') {
      throw new TypeError(`Redis option sharding must be 'consistent'; got ${String(options.sharding)}`);
    }
    if ((options.waitReplicas ?? 0) > 0 && (options.poolSize ?? 1) > 1) {
      // WAIT counts the writes of the connection it is sent on: it must follow them on one connection.
      throw new TypeError('Redis options waitReplicas and poolSize > 1 cannot be combined: WAIT only covers writes made on its own connection');
    }
    this.topology = createTopology(params.location, options.tracking ? trackingConnectionOptions(options.tracking, options) : options);
  }

  /** Announces changed keys through `options.tracking` (client-side caching). */
  static readonly supportsChangeTracking = true;

  /**
   * The cache URL is the location (`rediss://user:pass@host/2`, `unix:///run/redis.sock?db=1`),
   * its query reduced to the connection parameters.
   */
  static paramsFromUrl(parsed: ParsedCacheUrl, common: CacheParams): CacheParams {
    return { ...common, location: locationOfUrl(parsed) };
  }

  /** Milliseconds (`null`: never); 0 for a timeout of 0 or less, which deletes. */
  override getBackendTimeout(timeout?: number | null): number | null {
    const seconds = timeout === undefined ? this.defaultTimeout : timeout;
    if (seconds === null) return null;
    return seconds <= 0 ? 0 : Math.max(1, Math.round(seconds * 1000));
  }

  /**
   * The primary's client (Django's `get_client(write=True)`), for commands the cache does not
   * wrap. On a cluster, the first primary of the slot map (known after the first command or
   * `await cache.cluster.ready()`); use `getClient({ key })` for a key's node.
   */
  get client(): RedisClient {
    const primary = this.topology.primaries[0];
    if (primary === undefined) throw new CacheConnectionError('The Redis Cluster slot map is not known yet: await cache.cluster.ready() first');
    return primary;
  }

  /** The cluster's client (slot map, `refresh()`, per-node clients) when the cache is on Redis Cluster. */
  get cluster(): RedisCluster | undefined {
    return this.topology instanceof ClusterTopology ? this.topology.cluster : undefined;
  }

  /** The client a key's reads (or writes) go to. */
  getClient(options: { key?: string; write?: boolean; version?: number } = {}): RedisClient {
    const made = options.key === undefined ? '' : this.makeAndValidateKey(options.key, options.version);
    return options.write ? this.topology.writerFor(made) : this.topology.readerFor(made);
  }

  // ---- values ------------------------------------------------------------------------------

  /** The stored bytes of a value; throws `ValueTooLargeError` for one the server would refuse. */
  private encode(value: unknown): Buffer {
    const bytes = this.codec.serialize(value);
    if (bytes.length > this.maxValueBytes) {
      throw new ValueTooLargeError(`A value of ${bytes.length} bytes is over the limit of ${this.maxValueBytes} (option maxValueBytes); nothing was sent`);
    }
    return bytes;
  }

  /** `encode`, with a value too large as `undefined`: for `setMany`, which reports such keys as not stored. */
  private encodeIfFits(value: unknown): Buffer | undefined {
    try {
      return this.encode(value);
    } catch (error) {
      if (error instanceof ValueTooLargeError) return undefined;
      throw error;
    }
  }

  private decode(bytes: Buffer): unknown {
    return this.codec.deserialize(bytes);
  }

  // ---- failures ----------------------------------------------------------------------------

  /** With `ignoreExceptions`, an unreachable server gives `fallback()` (and one warning per outage). */
  private async guard<T>(operation: () => Promise<T>, fallback: () => T): Promise<T> {
    try {
      const result = await operation();
      this.outages.recovered();
      return result;
    } catch (error) {
      if (!this.options.ignoreExceptions || !isOutage(error)) throw error;
      this.outages.swallowed(error);
      return fallback();
    }
  }

  /**
   * Waits for replicas after a write, when `waitReplicas` asks for it. Sent once the write is
   * answered (a script may have needed a second command), on the same single connection.
   */
  private async replicate(server: RedisClient): Promise<void> {
    const replicas = this.options.waitReplicas ?? 0;
    if (replicas > 0) await server.call('WAIT', replicas, this.options.waitReplicasTimeout ?? 100);
  }

  private write<T>(key: string, command: (server: RedisClient) => Promise<T>): Promise<T> {
    return this.topology.onWriter(key, async (server) => {
      const result = await command(server);
      await this.replicate(server);
      return result;
    });
  }

  private read<T>(key: string, command: (server: RedisClient) => Promise<T>): Promise<T> {
    return this.topology.onReader(key, command);
  }

  /**
   * Runs a command per group (one per server, or per cluster slot) at once. With
   * `ignoreExceptions`, a group whose server is unreachable gives `fallback` and the others
   * their results: one node down on a cluster costs only its own keys.
   */
  private eachGroup<T>(groups: readonly KeyGroup[], command: (server: RedisClient, keys: string[]) => Promise<T>, fallback: (keys: string[]) => T): Promise<T[]> {
    const run = (group: KeyGroup): Promise<T> => group.run((server) => command(server, group.keys));
    // Without ignoreExceptions there is nothing to guard: a failing group fails the call.
    if (!this.options.ignoreExceptions) return Promise.all(groups.map(run));
    return Promise.all(groups.map((group) => this.guard(() => run(group), () => fallback(group.keys))));
  }

  // ---- primitives --------------------------------------------------------------------------

  protected getItem(key: string): Promise<unknown> {
    return this.guard(async () => {
      return this.decodeReply(await this.read(key, (server) => server.get(key)));
    }, () => MISSING);
  }

  protected setItem(key: string, value: unknown, timeout: number | null): Promise<void> {
    const bytes = this.encode(value);
    return this.guard(async () => {
      if (timeout === 0) await this.write(key, (server) => server.del(key));
      else await this.write(key, (server) => server.set(key, bytes, timeout === null ? undefined : { px: timeout }));
    }, () => undefined);
  }

  protected addItem(key: string, value: unknown, timeout: number | null): Promise<boolean> {
    const bytes = this.encode(value);
    return this.guard(async () => {
      // A timeout of 0 stores nothing; add still tells whether it would have.
      if (timeout === 0) return (await this.topology.onWriter(key, (server) => server.exists(key))) === 0;
      return this.write(key, (server) => server.set(key, bytes, timeout === null ? { nx: true } : { nx: true, px: timeout }));
    }, () => false);
  }

  /** `SET NX PX` of the token itself, on the key's primary. */
  protected override acquireLockItem(key: string, token: string, ttl: number): Promise<boolean> {
    return this.guard(() => this.write(key, (server) => server.set(key, token, { nx: true, px: Math.max(1, Math.round(ttl * 1000)) })), () => false);
  }

  /** Compare-and-delete in one step (a Lua script), so a lock taken by another after it expired stays. */
  protected override async releaseLockItem(key: string, token: string): Promise<void> {
    await this.guard(() => this.write(key, (server) => server.runScript(RELEASE_LOCK, [key], [token])), () => 0);
  }

  protected touchItem(key: string, timeout: number | null): Promise<boolean> {
    return this.guard(() => this.expireItem(key, timeout), () => false);
  }

  private expireItem(key: string, timeout: number | null): Promise<boolean> {
    return this.write(key, async (server) => {
      if (timeout === null) return (await server.runScript(PERSIST_EXISTING, [key])) === 1;
      if (timeout === 0) return (await server.del(key)) > 0;
      return server.pexpire(key, timeout);
    });
  }

  protected deleteItem(key: string): Promise<boolean> {
    return this.guard(async () => (await this.write(key, (server) => server.del(key))) > 0, () => false);
  }

  protected async incrItem(key: string, delta: number): Promise<number | Missing> {
    try {
      const result = await this.write(key, (server) => server.runScript(INCREMENT_EXISTING, [key], [delta]));
      return result === null ? MISSING : (result as number);
    } catch (error) {
      if (error instanceof RedisReplyError && error.code === 'UNSAFE') throw new NonNumericValueError(key, 'the result is outside the safe integer range');
      if (error instanceof RedisReplyError) throw new NonNumericValueError(key, `the stored value is not an integer (${error.message})`);
      throw error;
    }
  }

  protected override hasItem(key: string): Promise<boolean> {
    return this.guard(async () => (await this.read(key, (server) => server.exists(key))) > 0, () => false);
  }

  /** `PTTL` on the server the key's reads go to (a replica, or the key's shard). */
  protected override ttlItem(key: string): Promise<number | null | Missing> {
    return this.guard(async () => fromPttl(await this.read(key, (server) => server.pttl(key))), () => MISSING);
  }

  protected override async getManyItems(keys: readonly string[]): Promise<Map<string, unknown>> {
    return foundInOrder(keys, await this.getManyInOrder(keys));
  }

  /**
   * One MGET per server (per slot on a cluster); its replies come in key order, as the values go
   * back. Each value is decoded straight out of the reply's buffer (`mgetInPlace`).
   */
  protected override getManyInOrder(keys: readonly string[]): Promise<unknown[]> {
    const groups = this.topology.partition(keys, false);
    // Not an async function: the common single group hands its Promise back without extra ticks.
    return groups.length === 1 ? this.readGroup(groups[0]!) : this.readGroups(keys, groups);
  }

  private async readGroups(keys: readonly string[], groups: readonly KeyGroup[]): Promise<unknown[]> {
    const values = await Promise.all(groups.map((group) => this.readGroup(group)));
    const byKey = new Map<string, unknown>();
    groups.forEach(({ keys: group }, index) => group.forEach((key, position) => byKey.set(key, values[index]![position])));
    return keys.map((key) => byKey.get(key));
  }

  /**
   * A group's values, in its keys' order. A lone key is a GET: cheaper for the server than a
   * one-key MGET, and on a cluster, where keys of different slots cannot share an MGET, most
   * groups are one key. With `ignoreExceptions`, an unreachable server's keys read as missing.
   */
  private readGroup({ keys, run }: KeyGroup): Promise<unknown[]> {
    const read = (): Promise<unknown[]> =>
      keys.length === 1
        ? run((server) => server.get(keys[0]!)).then((bytes) => [this.decodeReply(bytes)])
        : run((server) => server.mgetInPlace(...keys)).then((strings) => strings.map(this.readValue, MISSING));
    return this.options.ignoreExceptions ? this.guard(read, () => keys.map(() => MISSING)) : read();
  }

  private readonly readValue = (data: Buffer, start: number, end: number): unknown => deserializeRange(this.codec, data, start, end);

  private decodeReply(bytes: Buffer | null): unknown {
    return bytes === null ? MISSING : this.decode(bytes);
  }

  protected override async setManyItems(entries: ReadonlyArray<readonly [string, unknown]>, timeout: number | null): Promise<string[]> {
    if (timeout === 0) return this.deleteManyItems(entries.map(([key]) => key)).then(() => []);
    // Every value is encoded before anything is sent; one the server would refuse is not sent at
    // all (Django's set_many: it is reported as not stored, the others are stored).
    const encoded = new Map<string, Buffer>();
    const tooLarge: string[] = [];
    for (const [key, value] of entries) {
      const bytes = this.encodeIfFits(value);
      if (bytes === undefined) tooLarge.push(key);
      else encoded.set(key, bytes);
    }
    const options = timeout === null ? undefined : { px: timeout };
    const failed = await this.eachGroup(
      this.topology.partition([...encoded.keys()], true),
      async (server, group) => {
        // Sent together (auto-pipelined) and settled one by one, so an error reply fails only its own key.
        const results = await Promise.allSettled(group.map((key) => server.set(key, encoded.get(key)!, options)));
        // An answer about the slot (a redirection) or a lost connection concerns the whole group:
        // thrown, so a cluster runs the group again where the slot now is, or it fails as one.
        const groupFailure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected' && !failsOnlyItsKey(result.reason));
        if (groupFailure) throw groupFailure.reason;
        await this.replicate(server);
        return group.filter((_, index) => results[index]!.status === 'rejected');
      },
      (group) => group,
    );
    return [...tooLarge, ...failed.flat()];
  }

  protected override async deleteManyItems(keys: readonly string[]): Promise<void> {
    await this.eachGroup(this.topology.partition(keys, true), (server, group) => server.del(...group).then(() => this.replicate(server)), () => undefined);
  }

  /** `FLUSHDB` on every primary: removes every key of the database, whatever its prefix. */
  async clear(): Promise<void> {
    await this.guard(async () => {
      await this.topology.ready();
      await Promise.all(this.topology.primaries.map(async (server) => server.flushdb().then(() => this.replicate(server))));
    }, () => undefined);
  }

  /**
   * `INFO` and `DBSIZE` of every server writes go to (the one server, the primary of replicas,
   * each shard of a ring): `entries` and `bytes`, the sums of `dbsize` and `used_memory`, then for
   * each server, as `<host:port> <name>`, `redis_version`, `uptime_in_seconds`, `used_memory`,
   * `maxmemory`, `keyspace_hits`, `keyspace_misses`, `evicted_keys` and `dbsize`. Not guarded by
   * `ignoreExceptions`: a server that cannot be reached rejects.
   */
  override async storeStats(): Promise<StoreStats> {
    await this.topology.ready();
    const reports = await Promise.all(
      this.topology.primaries.map(async (server) => {
        const [info, dbsize] = await Promise.all([server.info(), server.dbsize()]);
        return [server.address, parseInfo(info).set('dbsize', String(dbsize))] as const;
      }),
    );
    return serverStoreStats(new Map(reports), SERVER_STATS, { entries: 'dbsize', bytes: 'used_memory' });
  }

  override close(): Promise<void> {
    return this.topology.close();
  }

  // ---- django-redis extras -------------------------------------------------------------------

  /** Sets a new timeout (seconds; `null` never expires, 0 or less deletes); `false` when the key is missing. */
  async expire(key: string, timeout: Timeout, version?: number): Promise<boolean> {
    const made = this.makeAndValidateKey(key, version);
    return this.expireItem(made, this.getBackendTimeout(checkTimeout(timeout) ?? null));
  }

  /** Removes the key's expiry; `false` when the key is missing. */
  async persist(key: string, version?: number): Promise<boolean> {
    return this.expire(key, null, version);
  }

  private scanPattern(pattern: string, version: number | undefined, prefix: string | undefined): string {
    // The version is an integer, so only the prefix can hold glob characters.
    return this.keyFunction(pattern, globEscape(prefix ?? this.keyPrefix), version ?? this.version);
  }

  /** Stored keys matching a glob over every primary, via `SCAN` (never `KEYS`). */
  private async *scanMadeKeys(pattern: string): AsyncGenerator<string> {
    await this.topology.ready();
    for (const server of this.topology.primaries) {
      yield* server.scanIterator({ match: pattern, count: this.options.scanCount ?? 100 });
    }
  }

  /**
   * Deletes every key matching a glob (`session:*`) under this cache's prefix and version (or the
   * ones given); returns how many were deleted.
   */
  async deletePattern(pattern: string, options: { version?: number; prefix?: string } = {}): Promise<number> {
    let batch: string[] = [];
    let deleted = 0;
    // Deleted in batches grouped like any multi-key command: per server, or per slot on a cluster.
    const flush = async (): Promise<void> => {
      const groups = this.topology.partition(batch, true);
      batch = [];
      const counts = await Promise.all(groups.map((group) => group.run((server) => server.del(...group.keys))));
      deleted += counts.reduce((sum, count) => sum + count, 0);
    };
    for await (const key of this.scanMadeKeys(this.scanPattern(pattern, options.version, options.prefix))) {
      batch.push(key);
      if (batch.length >= 500) await flush();
    }
    if (batch.length > 0) await flush();
    return deleted;
  }

  /** The caller's keys matching a glob, under this cache's prefix and the given (or default) version. */
  async *iterKeys(pattern: string, options: { version?: number } = {}): AsyncGenerator<string> {
    for await (const key of this.scanMadeKeys(this.scanPattern(pattern, options.version, undefined))) yield this.reverseKey(key);
  }

  private reverseKey(made: string): string {
    if (this.options.reverseKeyFunction) return this.options.reverseKeyFunction(made);
    // The default key function is `prefix:version:key`: drop the prefix, then the version.
    const afterPrefix = made.slice(this.keyPrefix.length + 1);
    return afterPrefix.slice(afterPrefix.indexOf(':') + 1);
  }

  /** A lock on a cache key (made with the prefix and version), token-checked on release. */
  lock(key: string, options: LockOptions & { version?: number } = {}): RedisLock {
    const made = this.makeAndValidateKey(key, options.version);
    return new RedisLock((command) => this.topology.onWriter(made, command), made, options);
  }
}
