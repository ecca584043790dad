import { CacheProtocolError } from '@cachette/cache-core';

/** A key as a reply names it, compared with the keys asked for without necessarily decoding it. */
export interface ReplyKey {
  matches(key: string): boolean;
  /** The key as text, for messages. */
  readonly key: string;
}

/** Bounds of a key the servers did not find. */
const MISSING_BOUND = -1;

/**
 * The items of a multi-get in the order of the keys asked for, each read in place: the buffer
 * its value arrived in (usually the socket's chunk, shared by many values) and where the value
 * lies in it, instead of a Buffer and an item object per value. A caller that decodes every
 * value itself (`MemcachedCache.getMany`) reads them straight out of their buffers; the buffers
 * are never written again, so holding them is safe, though a kept view keeps its whole chunk.
 */
export class ItemRanges {
  private readonly sources: Array<Buffer | undefined>;
  /** Two entries per key, its value's start and end in its source; -1 when not found. */
  private readonly bounds: Int32Array;
  private readonly flags: Uint32Array;

  constructor(readonly length: number) {
    this.sources = new Array<Buffer | undefined>(length);
    this.bounds = new Int32Array(length * 2).fill(MISSING_BOUND);
    this.flags = new Uint32Array(length);
  }

  /** Records the item of the key at `position`: its flags and `source[start, end)`. */
  place(position: number, flags: number, source: Buffer, start: number, end: number): void {
    this.sources[position] = source;
    this.bounds[position * 2] = start;
    this.bounds[position * 2 + 1] = end;
    this.flags[position] = flags;
  }

  /** Each item passed to `read(flags, source, start, end)`, in key order; `missing` for the keys not found. */
  map<T, M>(read: (flags: number, source: Buffer, start: number, end: number) => T, missing: M): Array<T | M> {
    const { bounds, sources, flags } = this;
    const values = new Array<T | M>(this.length);
    for (let position = 0; position < values.length; position++) {
      const start = bounds[position * 2]!;
      values[position] = start === MISSING_BOUND ? missing : read(flags[position]!, sources[position]!, start, bounds[position * 2 + 1]!);
    }
    return values;
  }
}

/**
 * Where the items of one server's reply go in an `ItemRanges`: `keys` are the keys sent to that
 * server, in the order sent, and `positions[i]` is where `keys[i]` lies among all the keys asked
 * for (`undefined` when the one server has them all, in the same order).
 */
export class ItemPlacer {
  /** memcached answers the keys it finds in the order asked: the next one is usually here. */
  private cursor = 0;

  constructor(
    private readonly into: ItemRanges,
    private readonly keys: readonly string[],
    private readonly positions: Int32Array | undefined,
  ) {}

  get ranges(): ItemRanges {
    return this.into;
  }

  /** Places the item of the key the reply names (text protocol). */
  place(named: ReplyKey, flags: number, source: Buffer, start: number, end: number): void {
    this.placeAt(this.indexOf(named), flags, source, start, end);
  }

  /** Places the item of `keys[index]` (binary protocol: each reply carries its request's index). */
  placeAt(index: number, flags: number, source: Buffer, start: number, end: number): void {
    if (!(index < this.keys.length)) throw new CacheProtocolError(`Memcached answered request ${index} of a multi-get of ${this.keys.length} keys`);
    this.into.place(this.positions === undefined ? index : this.positions[index]!, flags, source, start, end);
  }

  /** The index of the named key among the keys sent, looked for from the last match on (keys may repeat). */
  private indexOf(named: ReplyKey): number {
    const { keys } = this;
    let index = this.cursor;
    while (index < keys.length && !named.matches(keys[index]!)) index++;
    // Out of the order asked: a server is free to answer so, though memcached never does.
    if (index === keys.length) index = keys.findIndex((key) => named.matches(key));
    if (index === -1) throw new CacheProtocolError(`Memcached sent a value for key '${named.key}', which was not asked for`);
    this.cursor = index + 1;
    return index;
  }
}
