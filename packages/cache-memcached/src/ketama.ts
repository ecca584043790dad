import { createHash } from 'node:crypto';
import { ringPointIndex } from '@cachette/cache-core';

/** A ring member: the name its points are derived from, and its share of the ring. */
export interface KetamaMember {
  /** libmemcached's: `host` when the port is 11211, otherwise `host:port` (a Unix socket: `path:0`). */
  readonly name: string;
  readonly weight: number;
}

/** libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA: ring points per server at equal weights. */
const POINTS_PER_SERVER = 160;
/** Each MD5 digest gives four 32-bit points. */
const POINTS_PER_DIGEST = 4;

function md5(text: string): Buffer {
  return createHash('md5').update(text).digest();
}

/** The ketama hash of a key: the first four bytes of its MD5, little-endian. */
export function ketamaHash(key: string): number {
  return md5(key).readUInt32LE(0);
}

/**
 * Consistent hashing as libmemcached does it in its libketama-compatible mode (weighted ketama
 * with MD5 for keys and points: pylibmc's `ketama_weighted`, PHP's OPT_LIBKETAMA_COMPATIBLE).
 *
 * A member with share `weight / totalWeight` gets `floor(share × 40 × members) × 4` points: the
 * four little-endian words of `md5("<name>-<i>")` for each `i`. A key belongs to the first point
 * at or after its hash, wrapping around. Adding one of N members moves about 1/N of the keys.
 */
export class KetamaRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(members: readonly KetamaMember[]) {
    const totalWeight = members.reduce((sum, member) => sum + member.weight, 0);
    const entries: Array<[point: number, owner: number]> = [];
    members.forEach((member, owner) => {
      const share = member.weight / totalWeight;
      // libmemcached computes this in single precision with a tiny epsilon; doubles agree for sane weights.
      const digests = Math.floor(share * (POINTS_PER_SERVER / POINTS_PER_DIGEST) * members.length + 1e-10);
      for (let index = 0; index < digests; index++) {
        const digest = md5(`${member.name}-${index}`);
        for (let word = 0; word < POINTS_PER_DIGEST; word++) entries.push([digest.readUInt32LE(word * 4), owner]);
      }
    });
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries, ([point]) => point);
    this.owners = Uint32Array.from(entries, ([, owner]) => owner);
  }

  /** The index (in the members given) of the member that owns `hash`; -1 for an empty ring. */
  ownerOfHash(hash: number): number {
    return this.points.length === 0 ? -1 : this.owners[ringPointIndex(this.points, hash)]!;
  }

  ownerOf(key: string): number {
    return this.ownerOfHash(ketamaHash(key));
  }
}
