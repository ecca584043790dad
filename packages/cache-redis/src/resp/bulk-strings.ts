/** Bounds of a nil value. */
const NIL = -1;
const EMPTY = Buffer.alloc(0);

/**
 * An array reply of bulk strings read in place: the buffer the reply arrived in and where each
 * value lies in it, instead of one Buffer per value. Making a Buffer (a view over the socket's
 * chunk) costs more than decoding a short value, so a caller that decodes every value itself
 * (`RedisCache.getMany`) reads them straight out of `source`.
 */
export class BulkStrings {
  /**
   * @param source the bytes holding every value
   * @param bounds two entries per value, its start and end offsets in `source`; -1 for a nil
   */
  constructor(
    readonly source: Buffer,
    private readonly bounds: Int32Array,
  ) {}

  /** The values of an array reply that was decoded the general way (it arrived across socket reads). */
  static of(items: ReadonlyArray<Buffer | null>): BulkStrings {
    const bounds = new Int32Array(items.length * 2);
    let offset = 0;
    items.forEach((item, index) => {
      bounds[index * 2] = item === null ? NIL : offset;
      bounds[index * 2 + 1] = item === null ? NIL : (offset += item.length);
    });
    const present = items.filter((item): item is Buffer => item !== null);
    return new BulkStrings(present.length === 0 ? EMPTY : Buffer.concat(present, offset), bounds);
  }

  get length(): number {
    return this.bounds.length >> 1;
  }

  /** Each value passed to `read(source, start, end)`, in order; `nil` where the reply held a nil. */
  map<T, N>(read: (source: Buffer, start: number, end: number) => T, nil: N): Array<T | N> {
    const { bounds, source } = this;
    const values = new Array<T | N>(bounds.length >> 1);
    for (let index = 0; index < values.length; index++) {
      const start = bounds[index * 2]!;
      values[index] = start === NIL ? nil : read(source, start, bounds[index * 2 + 1]!);
    }
    return values;
  }

  /** The values as Buffers (views of `source`, not copies), `null` for nils. */
  toBuffers(): Array<Buffer | null> {
    return this.map((source, start, end) => source.subarray(start, end), null);
  }
}
