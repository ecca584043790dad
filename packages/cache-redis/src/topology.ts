import { RedisClient, type RedisClientOptions } from './client';
import { RedisCluster, type ServerCommand } from './cluster/cluster-client';
import { keySlot } from './cluster/slots';
import { HashRing } from './ring';

export type { ServerCommand } from './cluster/cluster-client';

/** Keys that one command can carry, and how to run a command on the server that holds them. */
export interface KeyGroup {
  readonly keys: string[];
  run<T>(command: ServerCommand<T>): Promise<T>;
}

/**
 * Which server a key's reads and writes go to. Three layouts: Django's (the first server takes
 * writes, the others are read replicas), a consistent-hash ring of independent primaries, and
 * Redis Cluster (the servers say which node serves each slot, and redirect when that changes).
 */
export interface Topology {
  /** Every server that takes writes, as last known (cleared by `clear()`, scanned by `deletePattern`). */
  readonly primaries: readonly RedisClient[];
  /** Every server a client was made for. */
  readonly all: readonly RedisClient[];
  /** Resolves once `primaries` is known (a cluster asks for its slot map). */
  ready(): Promise<void>;
  writerFor(key: string): RedisClient;
  readerFor(key: string): RedisClient;
  /** Runs `command` on the server a key's writes go to (following a cluster's redirections). */
  onWriter<T>(key: string, command: ServerCommand<T>): Promise<T>;
  onReader<T>(key: string, command: ServerCommand<T>): Promise<T>;
  /** Keys grouped so that one command can carry each group. */
  partition(keys: readonly string[], forWrite: boolean): KeyGroup[];
  close(): Promise<void>;
}

/** Keys in groups of the same `groupOf`, in first-seen order. */
function groupBy<G>(keys: readonly string[], groupOf: (key: string) => G): Map<G, string[]> {
  const groups = new Map<G, string[]>();
  for (const key of keys) {
    const group = groupOf(key);
    const members = groups.get(group);
    if (members) members.push(key);
    else groups.set(group, [key]);
  }
  return groups;
}

function clients(locations: readonly string[], options: RedisClientOptions): RedisClient[] {
  return locations.map((location) => new RedisClient({ ...options, url: location }));
}

/** The layouts whose servers are fixed at construction: commands run where the layout says. */
abstract class FixedTopology implements Topology {
  abstract readonly primaries: readonly RedisClient[];
  abstract readonly all: readonly RedisClient[];
  abstract writerFor(key: string): RedisClient;
  abstract readerFor(key: string): RedisClient;

  ready(): Promise<void> {
    return Promise.resolve();
  }

  onWriter<T>(key: string, command: ServerCommand<T>): Promise<T> {
    return command(this.writerFor(key));
  }

  onReader<T>(key: string, command: ServerCommand<T>): Promise<T> {
    return command(this.readerFor(key));
  }

  partition(keys: readonly string[], forWrite: boolean): KeyGroup[] {
    const groups = groupBy(keys, (key) => (forWrite ? this.writerFor(key) : this.readerFor(key)));
    return [...groups].map(([server, group]) => ({ keys: group, run: (command) => command(server) }));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((server) => server.close()));
  }
}

/** Django's layout: index 0 is the primary; reads pick a replica at random when there are any. */
export class ReplicatedTopology extends FixedTopology {
  readonly all: readonly RedisClient[];
  readonly primaries: readonly RedisClient[];
  private readonly replicas: readonly RedisClient[];

  constructor(locations: readonly string[], options: RedisClientOptions) {
    super();
    this.all = clients(locations, options);
    this.primaries = this.all.slice(0, 1);
    this.replicas = this.all.length > 1 ? this.all.slice(1) : this.primaries;
  }

  writerFor(): RedisClient {
    return this.primaries[0]!;
  }

  readerFor(): RedisClient {
    return this.replicas.length === 1 ? this.replicas[0]! : this.replicas[Math.floor(Math.random() * this.replicas.length)]!;
  }

  /** One server takes all the writes and one replica a call's reads: a single group. */
  override partition(keys: readonly string[], forWrite: boolean): KeyGroup[] {
    const server = forWrite ? this.writerFor() : this.readerFor();
    return [{ keys: [...keys], run: (command) => command(server) }];
  }
}

/** Independent primaries on a consistent-hash ring; keys sharing a `{hash tag}` share a server. */
export class ShardedTopology extends FixedTopology {
  readonly all: readonly RedisClient[];
  readonly primaries: readonly RedisClient[];
  private readonly ring: HashRing<RedisClient>;

  constructor(locations: readonly string[], options: RedisClientOptions) {
    super();
    this.all = clients(locations, options);
    this.primaries = this.all;
    this.ring = new HashRing(this.all.map((node, index) => ({ name: locations[index]!, node })));
  }

  writerFor(key: string): RedisClient {
    return this.ring.nodeFor(key);
  }

  readerFor(key: string): RedisClient {
    return this.ring.nodeFor(key);
  }
}

/**
 * Redis Cluster: a key's slot decides its node, as the cluster's slot map says. Multi-key
 * commands are split by slot (the cluster refuses keys of several slots in one command); the
 * groups of one node share its auto-pipelined connection, so they travel in one round trip.
 */
export class ClusterTopology implements Topology {
  constructor(readonly cluster: RedisCluster) {}

  get primaries(): readonly RedisClient[] {
    return this.cluster.primaries;
  }

  get all(): readonly RedisClient[] {
    return this.cluster.nodes;
  }

  ready(): Promise<void> {
    return this.cluster.ready();
  }

  writerFor(key: string): RedisClient {
    return this.cluster.serverFor(keySlot(key), 'write');
  }

  readerFor(key: string): RedisClient {
    return this.cluster.serverFor(keySlot(key), 'read');
  }

  onWriter<T>(key: string, command: ServerCommand<T>): Promise<T> {
    return this.cluster.route(keySlot(key), 'write', command);
  }

  onReader<T>(key: string, command: ServerCommand<T>): Promise<T> {
    return this.cluster.route(keySlot(key), 'read', command);
  }

  partition(keys: readonly string[], forWrite: boolean): KeyGroup[] {
    const bySlot = groupBy(keys, keySlot);
    const access = forWrite ? 'write' : 'read';
    return [...bySlot].map(([slot, group]) => ({ keys: group, run: (command) => this.cluster.route(slot, access, command) }));
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
