import { createHash } from 'node:crypto';
import { ringPointIndex } from '@cachette/cache-core';

/**
 * The part of a key that decides its shard: the text between the first `{` and the next `}` when
 * that is not empty (Redis Cluster's rule), else the whole key. `user:{42}:name` and
 * `user:{42}:mail` land together.
 */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

function digest(text: string): Buffer {
  return createHash('md5').update(text).digest();
}

/**
 * A consistent-hash ring (ketama style): each node owns `pointsPerNode` points placed by MD5 of
 * `name-i`; a key belongs to the first point at or after its own hash, wrapping around. Adding or
 * removing one node moves only about 1/n of the keys. Nodes are placed by name, not by position,
 * so the order of the server list does not matter.
 */
export class HashRing<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];

  constructor(nodes: ReadonlyArray<{ name: string; node: T }>, pointsPerNode = 160) {
    if (nodes.length === 0) throw new RangeError('A hash ring needs at least one node');
    const placed: Array<{ point: number; node: T }> = [];
    for (const { name, node } of nodes) {
      // One MD5 digest gives four 32-bit points.
      for (let i = 0; i < pointsPerNode / 4; i++) {
        const hash = digest(`${name}-${i}`);
        for (let part = 0; part < 4; part++) placed.push({ point: hash.readUInt32LE(part * 4), node });
      }
    }
    placed.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(placed, (entry) => entry.point);
    this.owners = placed.map((entry) => entry.node);
  }

  /** The node owning `key` (after hash-tag extraction). */
  nodeFor(key: string): T {
    return this.owners[ringPointIndex(this.points, digest(hashTag(key)).readUInt32LE(0))]!;
  }
}
