import { CacheConnectionError, InvalidCacheBackendError } from '@cachette/cache-core';
import { Connection, describeAddress, type ConnectionOptions, type ConnectionRequest, type ServerAddress } from './connection';
import { KetamaRing, ketamaHash } from './ketama';

export const DEFAULT_PORT = 11211;

/** A server from the configuration: where it listens and its share of the keys. */
export interface ServerSpec {
  readonly address: ServerAddress;
  readonly weight: number;
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?(?::(\d+))?$/;

/**
 * Reads one server: `host`, `host:port`, `[v6]:port`, with an optional `:weight`, or a Unix
 * socket as `unix:/path` or `/path`.
 */
export function parseServer(text: string): ServerSpec {
  const trimmed = text.trim();
  if (trimmed.startsWith('unix:')) return { address: { path: trimmed.slice(5) }, weight: 1 };
  if (trimmed.startsWith('/')) return { address: { path: trimmed }, weight: 1 };
  const match = HOST_PORT.exec(trimmed);
  const port = Number(match?.[3] ?? DEFAULT_PORT);
  const weight = Number(match?.[4] ?? 1);
  if (!match || port < 1 || port > 65535 || !Number.isInteger(weight) || weight < 1) {
    throw new InvalidCacheBackendError(`'${text}' is not a memcached server: expected host:port[:weight], [ipv6]:port or unix:/path`);
  }
  return { address: { host: match[1] ?? match[2]!, port }, weight };
}

/** A location: one server, a list, or a string separated by `;` or `,` (as Django splits it). */
export function parseServers(location: string | readonly string[]): ServerSpec[] {
  const texts = typeof location === 'string' ? location.split(/[;,]/) : location;
  const servers = texts.filter((text) => text.trim() !== '').map(parseServer);
  if (servers.length === 0) throw new InvalidCacheBackendError('A memcached cache needs at least one server in its location');
  return servers;
}

/** The name libmemcached derives ring points from: the port is left out when it is the default. */
export function ketamaName(address: ServerAddress): string {
  if ('path' in address) return `${address.path}:0`;
  return address.port === DEFAULT_PORT ? address.host : `${address.host}:${address.port}`;
}

export interface FailoverOptions {
  /** Consecutive connection failures after which a server leaves the ring. */
  failureLimit: number;
  /** Milliseconds a removed server stays out before it is tried again. */
  retryTimeoutMs: number;
}

/** One server: a small pool of connections and its failure count. */
export class ServerNode<R extends ConnectionRequest> {
  readonly name: string;
  private readonly connections: Connection<R>[];
  private next = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;

  constructor(
    readonly spec: ServerSpec,
    poolSize: number,
    connectionOptions: Omit<ConnectionOptions<R>, 'address' | 'onDown' | 'onUp'>,
    private readonly onHealthChange: (node: ServerNode<R>, error: Error | undefined) => void,
  ) {
    this.name = describeAddress(spec.address);
    this.connections = Array.from(
      { length: poolSize },
      () =>
        new Connection<R>({
          ...connectionOptions,
          address: spec.address,
          onDown: (error) => this.onHealthChange(this, error),
          onUp: () => this.onHealthChange(this, undefined),
        }),
    );
  }

  /** Requests waiting for replies on all of this server's connections. */
  get pending(): number {
    let pending = 0;
    for (const connection of this.connections) pending += connection.pending;
    return pending;
  }

  /** Sends on the connection with the fewest requests outstanding, taking turns among equals. */
  send(request: R): void {
    const { connections } = this;
    let chosen = connections[this.next]!;
    this.next = (this.next + 1) % connections.length;
    for (const connection of connections) if (connection.pending < chosen.pending) chosen = connection;
    chosen.send(request);
  }

  /** Back in service after `retryTimeout`: the next request connects rather than waiting out a backoff. */
  readmit(failureLimit: number): void {
    this.ejectedUntil = 0;
    // One more failure takes it out again at once, rather than after `failureLimit` more.
    this.consecutiveFailures = failureLimit - 1;
    for (const connection of this.connections) connection.retryNow();
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
  }
}

/**
 * The servers of a client and which one holds each key: ketama over the servers in service. A
 * server failing `failureLimit` times in a row is taken out for `retryTimeoutMs` (its keys go to
 * the next server on the ring meanwhile), then put back and tried again.
 */
export class ServerPool<R extends ConnectionRequest> {
  readonly nodes: ServerNode<R>[];
  private inService: ServerNode<R>[] = [];
  private ring!: KetamaRing;
  private nextRetryAt = Infinity;

  constructor(
    specs: readonly ServerSpec[],
    poolSize: number,
    connectionOptions: Omit<ConnectionOptions<R>, 'address' | 'onDown' | 'onUp'>,
    private readonly failover: FailoverOptions,
  ) {
    this.nodes = specs.map((spec) => new ServerNode(spec, poolSize, connectionOptions, (node, error) => this.onHealthChange(node, error)));
    this.rebuildRing();
  }

  /** The server for `key`, or a `CacheConnectionError` when every server is out of service. */
  nodeFor(key: string): ServerNode<R> {
    if (this.nextRetryAt !== Infinity && Date.now() >= this.nextRetryAt) this.readmitServers();
    const { inService } = this;
    if (inService.length === 1) return inService[0]!;
    const owner = this.ring.ownerOfHash(ketamaHash(key));
    if (owner === -1) throw this.allDownError();
    return inService[owner]!;
  }

  /** Keys grouped by the server that holds them, in first-seen order. */
  groupByNode(keys: readonly string[]): Map<ServerNode<R>, string[]> {
    if (keys.length === 0) return new Map();
    if (this.nodes.length === 1) return new Map([[this.nodeFor(keys[0]!), [...keys]]]);
    const groups = new Map<ServerNode<R>, string[]>();
    for (const key of keys) {
      const node = this.nodeFor(key);
      const group = groups.get(node);
      if (group) group.push(key);
      else groups.set(node, [key]);
    }
    return groups;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }

  private onHealthChange(node: ServerNode<R>, error: Error | undefined): void {
    if (!error) {
      node.consecutiveFailures = 0;
      return;
    }
    node.consecutiveFailures++;
    if (node.consecutiveFailures < this.failover.failureLimit || node.ejectedUntil > Date.now()) return;
    node.ejectedUntil = Date.now() + this.failover.retryTimeoutMs;
    this.nextRetryAt = Math.min(this.nextRetryAt, node.ejectedUntil);
    this.rebuildRing();
  }

  private readmitServers(): void {
    const now = Date.now();
    this.nextRetryAt = Infinity;
    for (const node of this.nodes) {
      if (node.ejectedUntil === 0) continue;
      if (node.ejectedUntil <= now) {
        node.readmit(this.failover.failureLimit);
      } else {
        this.nextRetryAt = Math.min(this.nextRetryAt, node.ejectedUntil);
      }
    }
    this.rebuildRing();
  }

  private rebuildRing(): void {
    this.inService = this.nodes.filter((node) => node.ejectedUntil === 0);
    this.ring = new KetamaRing(this.inService.map((node) => ({ name: ketamaName(node.spec.address), weight: node.spec.weight })));
  }

  private allDownError(): CacheConnectionError {
    const retryIn = Math.max(0, this.nextRetryAt - Date.now());
    return new CacheConnectionError(
      `Every memcached server is out of service (${this.nodes.map((node) => node.name).join(', ')}); the first is retried in ${retryIn} ms`,
    );
  }
}
