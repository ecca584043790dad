import { RedisClient, type RedisClientOptions } from './client';
import { HashRing } from './ring';

/**
 * Which server a key's reads and writes go to. Two layouts: Django's (the first server takes
 * writes, the others are read replicas) and a consistent-hash ring of independent primaries.
 */
export interface Topology {
  /** Every server that takes writes (cleared by `clear()`, scanned by `deletePattern`). */
  readonly primaries: readonly RedisClient[];
  readonly all: readonly RedisClient[];
  writerFor(key: string): RedisClient;
  readerFor(key: string): RedisClient;
  /** Keys grouped by the server that serves them, for one command per server. */
  partition(keys: readonly string[], forWrite: boolean): Map<RedisClient, string[]>;
}

function clients(locations: readonly string[], options: RedisClientOptions): RedisClient[] {
  return locations.map((location) => new RedisClient({ ...options, url: location }));
}

/** Django's layout: index 0 is the primary; reads pick a replica at random when there are any. */
export class ReplicatedTopology implements Topology {
  readonly all: readonly RedisClient[];
  readonly primaries: readonly RedisClient[];
  private readonly replicas: readonly RedisClient[];

  constructor(locations: readonly string[], options: RedisClientOptions) {
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

  partition(keys: readonly string[], forWrite: boolean): Map<RedisClient, string[]> {
    return new Map([[forWrite ? this.writerFor() : this.readerFor(), [...keys]]]);
  }
}

/** Independent primaries on a consistent-hash ring; keys sharing a `{hash tag}` share a server. */
export class ShardedTopology implements Topology {
  readonly all: readonly RedisClient[];
  readonly primaries: readonly RedisClient[];
  private readonly ring: HashRing<RedisClient>;

  constructor(locations: readonly string[], options: RedisClientOptions) {
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

  partition(keys: readonly string[]): Map<RedisClient, string[]> {
    const groups = new Map<RedisClient, string[]>();
    for (const key of keys) {
      const server = this.ring.nodeFor(key);
      const group = groups.get(server);
      if (group) group.push(key);
      else groups.set(server, [key]);
    }
    return groups;
  }
}
