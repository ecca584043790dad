import { CacheConnectionError, CacheTimeoutError } from '@cachette/cache-core';
import { RedisClient, type RedisClientOptions } from '../client';
import { COMMANDS } from '../commands';
import { RedisReplyError } from '../resp/reply-error';
import { SlotMap, splitAddress, type NodeAddress } from './slot-map';

/** Where a cluster's reads go: primaries only, replicas only, or replicas with the primary as fallback. */
export type ReadFrom = 'primary' | 'replica' | 'prefer-replica';

export interface ClusterOptions {
  /** Where reads go. Default `'primary'`; replicas may answer a moment behind their primary. */
  readFrom?: ReadFrom;
  /** `MOVED`/`ASK`/`TRYAGAIN` answers followed for one operation before it fails. Default 16. */
  maxRedirections?: number;
  /** Milliseconds between two slot-map refreshes at most; a burst of redirections asks for one. Default 200. */
  refreshInterval?: number;
}

/** A command run on one node; the cluster runs it again elsewhere when redirected. */
export type ServerCommand<T> = (server: RedisClient) => Promise<T>;

export type Access = 'read' | 'write';

const READ_FROM: ReadonlySet<string> = new Set(['primary', 'replica', 'prefer-replica']);
/** Milliseconds to wait before retrying after `TRYAGAIN` (a multi-key command on a slot being migrated). */
const TRY_AGAIN_DELAY = 25;

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

const SLOT_ERRORS: ReadonlySet<string> = new Set(['MOVED', 'ASK', 'TRYAGAIN', 'CLUSTERDOWN']);

/** An answer about the slot rather than the command: served elsewhere, being migrated, or not served. */
export function isSlotError(error: unknown): error is RedisReplyError {
  return error instanceof RedisReplyError && SLOT_ERRORS.has(error.code);
}

function isOutage(error: unknown): boolean {
  return error instanceof CacheConnectionError || error instanceof CacheTimeoutError;
}

/** The node a `MOVED 3999 127.0.0.1:7002` or `ASK …` reply points to, and the slot it names. */
function redirection(error: RedisReplyError, from: RedisClient): { slot: number; address: NodeAddress } {
  const [, slot, address] = error.message.split(' ');
  if (slot === undefined || address === undefined) throw error;
  // `:7002`: a node that does not know its own endpoint means "the host you reached me at".
  return { slot: Number(slot), address: address.startsWith(':') ? `${from.options.host ?? '127.0.0.1'}${address}` : address };
}

/**
 * A Redis Cluster seen through one `RedisClient` per node (each auto-pipelined): the slot map
 * from `CLUSTER SHARDS` (or `CLUSTER SLOTS` before Redis 7), kept current by `MOVED` answers and
 * rate-limited refreshes, with `ASK` and `TRYAGAIN` followed a bounded number of times.
 *
 * Nothing here retries a command that may have run: only redirections, which the server sends
 * instead of running it. A node that cannot be reached fails the commands of its own slots at
 * once and asks for a new map, which names its replica once the cluster has promoted it.
 */
export class RedisCluster {
  private map = SlotMap.empty();
  private loaded = false;
  private readonly clients = new Map<NodeAddress, RedisClient>();
  private readonly readFrom: ReadFrom;
  private readonly maxRedirections: number;
  private readonly refreshInterval: number;
  private refreshing: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefresh = 0;
  private shardsUnsupported = false;
  private nextReplica = 0;
  private closed = false;

  constructor(
    /** Nodes asked for the slot map first; any node of the cluster will do. */
    readonly seeds: readonly NodeAddress[],
    /** Options of every node's client (authentication, TLS, timeouts, `poolSize`, …). */
    private readonly clientOptions: RedisClientOptions,
    options: ClusterOptions = {},
  ) {
    if (seeds.length === 0) throw new TypeError('A Redis Cluster needs at least one node address');
    if ((clientOptions.db ?? 0) !== 0) throw new TypeError(`Redis Cluster has only database 0; got db ${String(clientOptions.db)}`);
    this.readFrom = options.readFrom ?? 'primary';
    if (!READ_FROM.has(this.readFrom)) throw new TypeError(`Redis option readFrom must be 'primary', 'replica' or 'prefer-replica'; got ${String(this.readFrom)}`);
    this.maxRedirections = options.maxRedirections ?? 16;
    this.refreshInterval = options.refreshInterval ?? 200;
  }

  /** The slot map as last learned (empty before the first command or `ready()`). */
  get slotMap(): SlotMap {
    return this.map;
  }

  /** Resolves once the slot map is known. */
  ready(): Promise<void> {
    return this.loaded ? Promise.resolve() : this.refresh();
  }

  /** The client of every primary the map names. */
  get primaries(): RedisClient[] {
    return this.map.shards.map((shard) => this.clientAt(shard.primary));
  }

  /** Every node client made so far. */
  get nodes(): RedisClient[] {
    return [...this.clients.values()];
  }

  /** The client a slot's reads (or writes) go to now. */
  serverFor(slot: number, access: Access): RedisClient {
    const shard = this.map.shardOf(slot);
    if (shard === undefined) {
      this.requestRefresh();
      throw new CacheConnectionError(`Redis Cluster: no reachable primary serves slot ${slot} (refreshing the slot map)`);
    }
    if (access === 'write' || this.readFrom === 'primary' || shard.replicas.length === 0) return this.clientAt(shard.primary);
    this.nextReplica = (this.nextReplica + 1) % shard.replicas.length;
    return this.clientAt(shard.replicas[this.nextReplica]!);
  }

  /** Runs `command` on the node serving `slot`, following redirections. */
  route<T>(slot: number, access: Access, command: ServerCommand<T>): Promise<T> {
    if (!this.loaded) return this.ready().then(() => this.attempt(slot, access, command, 0, undefined));
    return this.attempt(slot, access, command, 0, undefined);
  }

  private attempt<T>(slot: number, access: Access, command: ServerCommand<T>, redirections: number, target: RedisClient | undefined): Promise<T> {
    let server: RedisClient;
    try {
      server = target ?? this.serverFor(slot, access);
    } catch (error) {
      return Promise.reject(error);
    }
    return command(server).catch((error: unknown) => this.recover(error, slot, access, command, redirections, server));
  }

  private async recover<T>(error: unknown, slot: number, access: Access, command: ServerCommand<T>, redirections: number, server: RedisClient): Promise<T> {
    if (isOutage(error)) {
      this.requestRefresh();
      const primary = this.map.shardOf(slot)?.primary;
      // A replica that cannot answer a read hands it to its primary, when asked to.
      if (access === 'read' && this.readFrom === 'prefer-replica' && primary !== undefined && server !== this.clients.get(primary)) {
        return this.attempt(slot, access, command, redirections + 1, this.clientAt(primary));
      }
      throw error;
    }
    if (error instanceof RedisReplyError && error.code === 'LOADING' && access === 'read') {
      // A replica still loading its copy cannot answer: its primary can.
      const primary = this.map.shardOf(slot)?.primary;
      if (primary !== undefined && server !== this.clients.get(primary)) return this.attempt(slot, access, command, redirections + 1, this.clientAt(primary));
    }
    if (!isSlotError(error)) throw error;
    if (error.code === 'CLUSTERDOWN') {
      this.requestRefresh();
      throw new CacheConnectionError(`Redis Cluster is down (${server.address}: ${error.message})`, { cause: error });
    }
    if (redirections >= this.maxRedirections) {
      throw new CacheConnectionError(`Redis Cluster redirected slot ${slot} ${redirections} times; the last answer was '${error.message}'`, { cause: error });
    }
    if (error.code === 'TRYAGAIN') {
      await sleep(TRY_AGAIN_DELAY);
      return this.attempt(slot, access, command, redirections + 1, undefined);
    }
    const target = redirection(error, server);
    if (error.code === 'ASK') return this.attempt(slot, access, command, redirections + 1, this.clientAt(target.address).asking());
    this.map = this.map.withSlotMovedTo(target.slot, target.address);
    this.requestRefresh();
    return this.attempt(slot, access, command, redirections + 1, undefined);
  }

  // ---- the slot map ------------------------------------------------------------------------

  /** Asks the cluster for its slot map now (one request at a time, shared by every caller). */
  refresh(): Promise<void> {
    if (this.closed) return Promise.reject(new CacheConnectionError('This Redis Cluster client is closed'));
    this.refreshing ??= this.loadMap()
      .then((map) => this.adopt(map))
      .finally(() => {
        this.refreshing = undefined;
        this.lastRefresh = Date.now();
      });
    return this.refreshing;
  }

  /** A refresh soon, at most one per `refreshInterval`; failures are left to the next command to report. */
  requestRefresh(): void {
    if (this.closed || this.refreshing || this.refreshTimer) return;
    const wait = this.lastRefresh + this.refreshInterval - Date.now();
    const start = (): void => {
      this.refreshTimer = undefined;
      this.refresh().catch(() => {});
    };
    if (wait <= 0) start();
    else (this.refreshTimer = setTimeout(start, wait)).unref();
  }

  private async loadMap(): Promise<SlotMap> {
    const failures: string[] = [];
    for (const address of this.candidates()) {
      try {
        const map = await this.askForMap(address);
        if (map.shards.length > 0) return map;
        failures.push(`${address}: no slots are assigned`);
      } catch (error) {
        failures.push(`${address}: ${(error as Error).message}`);
      }
    }
    throw new CacheConnectionError(`No Redis Cluster node answered with a slot map (${failures.join('; ')})`);
  }

  /** The nodes to ask: the known primaries in random order, then the replicas, then the seeds. */
  private candidates(): NodeAddress[] {
    const primaries = this.map.shards.map((shard) => shard.primary).sort(() => Math.random() - 0.5);
    return [...new Set([...primaries, ...this.map.addresses, ...this.seeds])];
  }

  private async askForMap(address: NodeAddress): Promise<SlotMap> {
    const client = this.clientAt(address);
    const { host } = splitAddress(address);
    const timeout = Math.min(this.clientOptions.commandTimeout ?? 5000, 2000) || 2000;
    if (!this.shardsUnsupported) {
      try {
        return SlotMap.fromShards(await client.run(COMMANDS.cluster, ['SHARDS'], timeout), host, Boolean(this.clientOptions.tls));
      } catch (error) {
        // Before Redis 7 there is no CLUSTER SHARDS; every version has CLUSTER SLOTS.
        if (!(error instanceof RedisReplyError) || error.code !== 'ERR') throw error;
        this.shardsUnsupported = true;
      }
    }
    return SlotMap.fromSlots(await client.run(COMMANDS.cluster, ['SLOTS'], timeout), host);
  }

  /** Takes a new map, and closes the clients of nodes it no longer names. */
  private adopt(map: SlotMap): void {
    this.map = map;
    this.loaded = true;
    const named = new Set(map.addresses);
    for (const [address, client] of this.clients) {
      if (named.has(address)) continue;
      this.clients.delete(address);
      client.close().catch(() => {});
    }
  }

  /** The one client of a node, made on first use. */
  clientAt(address: NodeAddress): RedisClient {
    if (this.closed) throw new CacheConnectionError('This Redis Cluster client is closed');
    let client = this.clients.get(address);
    if (client === undefined) {
      const { host, port } = splitAddress(address);
      // READONLY lets a replica answer reads of its primary's slots; a primary ignores it.
      client = new RedisClient({ ...this.clientOptions, url: undefined, path: undefined, host, port, readOnly: this.readFrom !== 'primary' });
      this.clients.set(address, client);
    }
    return client;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refreshTimer);
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
