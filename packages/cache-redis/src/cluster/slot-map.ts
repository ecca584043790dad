import { CacheProtocolError } from '@cachette/cache-core';
import type { RespValue } from '../resp/decoder';
import { SLOT_COUNT } from './slots';

/** A node of the cluster as `host:port`, the name its client is kept under. */
export type NodeAddress = string;

/** One primary and its replicas, serving some slots. */
export interface Shard {
  readonly primary: NodeAddress;
  readonly replicas: readonly NodeAddress[];
}

const UNASSIGNED = 0xffff;

export function nodeAddress(host: string, port: number): NodeAddress {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function splitAddress(address: NodeAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) throw new CacheProtocolError(`'${address}' is not a host:port cluster node address`);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new CacheProtocolError(`'${address}' has no valid port`);
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

function malformed(command: string, detail: string): CacheProtocolError {
  return new CacheProtocolError(`Redis replied to CLUSTER ${command} with ${detail}`);
}

function text(value: RespValue | undefined): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return '';
}

function integer(value: RespValue | undefined, command: string): number {
  const number = typeof value === 'number' ? value : Number(text(value));
  if (!Number.isInteger(number)) throw malformed(command, `${String(value)} where an integer was expected`);
  return number;
}

/** A RESP2 flat `[name, value, …]` array or a RESP3 map, as fields named by text. */
function fields(value: RespValue | undefined, command: string): Map<string, RespValue> {
  if (value instanceof Map) return new Map([...value].map(([name, field]) => [text(name), field]));
  if (!Array.isArray(value) || value.length % 2 !== 0) throw malformed(command, 'an entry that is not a map');
  const named = new Map<string, RespValue>();
  for (let index = 0; index < value.length; index += 2) named.set(text(value[index]), value[index + 1]!);
  return named;
}

/**
 * The host to reach a node at: its endpoint, unless the node does not know it (`?`, or empty,
 * which means "the address you reached me at").
 */
function hostOf(endpoint: string, askedHost: string): string {
  return endpoint === '' || endpoint === '?' ? askedHost : endpoint;
}

/**
 * Which shard serves each of the 16384 slots, as the cluster last told us. Immutable: a refresh
 * or a `MOVED` builds a new map, so a routing decision never sees one half-updated.
 */
export class SlotMap {
  constructor(
    readonly shards: readonly Shard[],
    /** The index in `shards` of each slot's shard; 0xffff when no shard serves it. */
    private readonly owners: Uint16Array,
  ) {}

  static empty(): SlotMap {
    return new SlotMap([], new Uint16Array(SLOT_COUNT).fill(UNASSIGNED));
  }

  /** From `CLUSTER SHARDS` (Redis 7+): failed nodes are left out; `tls` picks each node's `tls-port`. */
  static fromShards(reply: RespValue, askedHost: string, tls: boolean): SlotMap {
    if (!Array.isArray(reply)) throw malformed('SHARDS', 'something other than an array');
    const builder = new SlotMapBuilder();
    for (const entry of reply) {
      const shard = fields(entry, 'SHARDS');
      const ranges = shard.get('slots');
      const nodes = shard.get('nodes');
      if (!Array.isArray(ranges) || !Array.isArray(nodes)) throw malformed('SHARDS', 'a shard without slots or nodes');
      let primary: NodeAddress | undefined;
      const replicas: NodeAddress[] = [];
      for (const nodeEntry of nodes) {
        const node = fields(nodeEntry, 'SHARDS');
        const health = text(node.get('health'));
        if (health === 'failed') continue;
        const port = integer(tls && node.has('tls-port') ? node.get('tls-port') : node.get('port'), 'SHARDS');
        const address = nodeAddress(hostOf(text(node.get('endpoint') ?? node.get('ip')), askedHost), port);
        if (text(node.get('role')) === 'master') primary = address;
        // `loading`: still syncing, or only not yet gossiped about (a fresh cluster's replicas);
        // a replica that really is loading answers -LOADING, and the read goes to its primary.
        else replicas.push(address);
      }
      if (primary === undefined || ranges.length === 0) continue;
      for (let index = 0; index + 1 < ranges.length; index += 2) {
        builder.assign(integer(ranges[index], 'SHARDS'), integer(ranges[index + 1], 'SHARDS'), { primary, replicas });
      }
    }
    return builder.build();
  }

  /** From `CLUSTER SLOTS` (every version): `[start, end, [host, port, id], [replica…]…]` per range. */
  static fromSlots(reply: RespValue, askedHost: string): SlotMap {
    if (!Array.isArray(reply)) throw malformed('SLOTS', 'something other than an array');
    const builder = new SlotMapBuilder();
    for (const range of reply) {
      if (!Array.isArray(range) || range.length < 3) throw malformed('SLOTS', 'a range without a primary');
      const [start, end, ...nodes] = range;
      const addresses = nodes.map((node) => {
        if (!Array.isArray(node) || node.length < 2) throw malformed('SLOTS', 'a node without host and port');
        return nodeAddress(hostOf(text(node[0]), askedHost), integer(node[1], 'SLOTS'));
      });
      builder.assign(integer(start, 'SLOTS'), integer(end, 'SLOTS'), { primary: addresses[0]!, replicas: addresses.slice(1) });
    }
    return builder.build();
  }

  shardOf(slot: number): Shard | undefined {
    const index = this.owners[slot]!;
    return index === UNASSIGNED ? undefined : this.shards[index];
  }

  /** How many slots no shard serves (a cluster being set up, or a primary failed without a replica). */
  get unassignedSlots(): number {
    let count = 0;
    for (const owner of this.owners) if (owner === UNASSIGNED) count++;
    return count;
  }

  /** Every node the map names, primaries first. */
  get addresses(): NodeAddress[] {
    return [...new Set([...this.shards.map((shard) => shard.primary), ...this.shards.flatMap((shard) => shard.replicas)])];
  }

  /** The map after a `MOVED`: `slot` is now served by the primary at `address`. */
  withSlotMovedTo(slot: number, address: NodeAddress): SlotMap {
    let index = this.shards.findIndex((shard) => shard.primary === address);
    const shards = index === -1 ? [...this.shards, { primary: address, replicas: [] }] : this.shards;
    if (index === -1) index = shards.length - 1;
    const owners = this.owners.slice();
    owners[slot] = index;
    return new SlotMap(shards, owners);
  }
}

/** Collects ranges into a map, merging shards that share a primary (one node, several ranges). */
class SlotMapBuilder {
  private readonly shards: Shard[] = [];
  private readonly indexOfPrimary = new Map<NodeAddress, number>();
  private readonly owners = new Uint16Array(SLOT_COUNT).fill(UNASSIGNED);

  assign(start: number, end: number, shard: Shard): void {
    if (start < 0 || end >= SLOT_COUNT || start > end) throw new CacheProtocolError(`Redis Cluster named an impossible slot range ${start}-${end}`);
    let index = this.indexOfPrimary.get(shard.primary);
    if (index === undefined) {
      index = this.shards.push(shard) - 1;
      this.indexOfPrimary.set(shard.primary, index);
    }
    this.owners.fill(index, start, end + 1);
  }

  build(): SlotMap {
    return new SlotMap(this.shards, this.owners);
  }
}
