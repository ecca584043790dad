import { SerializationError, deserializeRange, isDecimalInteger, jsonSerializer, v8Serializer, type Serializer } from '@cachette/cache-core';
import { copyOfRange, type StoreItem } from './protocol';
import type { MemcachedItem } from './request';

/**
 * What the 32-bit flags of an item say about its bytes. 0 and 2 match pymemcache (Django's
 * PyMemcacheCache), so plain bytes and integers are shared with Python services; Cachette's own
 * serializers use flags no Python serde does.
 */
export const ValueFlags = {
  /**
   * Raw bytes: with the v8 serializer (which round-trips Buffers anyway) a Buffer is stored as is,
   * readable by any client, and read back as a Buffer. Other serializers get Buffers like any
   * other value (the JSON one refuses them).
   */
  bytes: 0,
  /**
   * A safe integer as decimal text, so memcached's `incr` works on it. Negative integers are
   * written as their 64-bit two's complement (-2 as 18446744073709551614): memcached's counters
   * are unsigned and wrap at 2^64, so adding that form is signed arithmetic, done atomically.
   */
  integer: 2,
  /** UTF-8 text (pymemcache's FLAG_TEXT); read only, Cachette writes strings with its serializer. */
  text: 16,
  /** Cachette's v8 serializer. */
  v8: 0x100,
  /** Cachette's JSON serializer. */
  json: 0x200,
  /** A serializer of your own; read back with the serializer configured. */
  custom: 0x400,
} as const;

const BUILT_IN_FLAGS = new Map<Serializer, number>([
  [v8Serializer, ValueFlags.v8],
  [jsonSerializer, ValueFlags.json],
]);

/** A signed integer as the unsigned 64-bit decimal text memcached's counters hold. */
export function encodeInteger(value: number | bigint): Buffer {
  return Buffer.from(BigInt.asUintN(64, BigInt(value)).toString(), 'latin1');
}

/** The signed value of a counter's 64-bit result: a number when safe, otherwise a bigint. */
export function signedCounterValue(unsigned: bigint): number | bigint {
  const signed = BigInt.asIntN(64, unsigned);
  const number = Number(signed);
  return Number.isSafeInteger(number) ? number : signed;
}

/** Reads an item's value from `data[start, end)`, which may be a view of a socket chunk. */
export type RangeReader = (data: Buffer, start: number, end: number) => unknown;

/** Decimal text (also a plain negative one, as other clients write it) as a signed 64-bit integer. */
function readInteger(data: Buffer, start: number, end: number): unknown {
  const text = data.toString('latin1', start, end);
  if (!/^-?\d{1,20}$/.test(text)) throw new SerializationError(`Stored value with the integer flag is not decimal text: ${JSON.stringify(text.slice(0, 40))}`);
  return signedCounterValue(BigInt(text));
}

/** Cachette's own serializer flags, readable whatever serializer is configured (so switching one loses nothing). */
export const SERIALIZER_READERS: ReadonlyMap<number, RangeReader> = new Map<number, RangeReader>([
  [ValueFlags.v8, (data, start, end) => deserializeRange(v8Serializer, data, start, end)],
  [ValueFlags.json, (data, start, end) => deserializeRange(jsonSerializer, data, start, end)],
]);

const READERS = new Map<number, RangeReader>([
  // Raw bytes are handed out: a Buffer of their own, never a view that keeps a socket chunk alive.
  [ValueFlags.bytes, copyOfRange],
  [ValueFlags.integer, readInteger],
  [ValueFlags.text, (data, start, end) => data.toString('utf8', start, end)],
  ...SERIALIZER_READERS,
]);

/** An increment as memcached commands: the one that applies it, and the one that takes it back. */
export interface CounterSteps {
  apply: readonly ['incr' | 'decr', bigint];
  undo: readonly ['incr' | 'decr', bigint];
}

/** How a cache's values become memcached items and back, and how its counters are stored. */
export interface ItemCodec {
  encode(value: unknown): StoreItem;
  decode(item: MemcachedItem): unknown;
  /** `decode` of the item with these flags whose value is `data[start, end)`, without a Buffer for it where the format allows. */
  decodeRange(flags: number, data: Buffer, start: number, end: number): unknown;
  /** The commands that add `delta` (a safe integer) to a counter. */
  counterSteps(delta: number): CounterSteps;
  /** What a counter's 64-bit result means: a number when safe, otherwise a bigint. */
  counterValue(result: bigint): number | bigint;
}

/** Turns cache values into memcached items and back, recording in the flags how the bytes were made. */
export class ValueCodec implements ItemCodec {
  private readonly serializerFlag: number;
  private readonly buffersAsBytes: boolean;

  constructor(private readonly serializer: Serializer) {
    this.serializerFlag = BUILT_IN_FLAGS.get(serializer) ?? ValueFlags.custom;
    this.buffersAsBytes = serializer === v8Serializer;
  }

  encode(value: unknown): StoreItem {
    if (this.buffersAsBytes && Buffer.isBuffer(value)) return { value, flags: ValueFlags.bytes };
    if (isDecimalInteger(value)) return { value: encodeInteger(value), flags: ValueFlags.integer };
    return { value: this.serializer.serialize(value), flags: this.serializerFlag };
  }

  decode(item: MemcachedItem): unknown {
    return this.decodeRange(item.flags, item.value, 0, item.value.length);
  }

  decodeRange(flags: number, data: Buffer, start: number, end: number): unknown {
    const read = READERS.get(flags);
    if (read) return read(data, start, end);
    if (flags === ValueFlags.custom || this.serializerFlag === ValueFlags.custom) return deserializeRange(this.serializer, data, start, end);
    throw new SerializationError(`Stored value has memcached flags ${flags}, which no Cachette serializer writes`);
  }

  /** Always `incr`, by the delta's 64-bit two's complement: wrapping unsigned addition is signed addition. */
  counterSteps(delta: number): CounterSteps {
    return { apply: ['incr', BigInt.asUintN(64, BigInt(delta))], undo: ['incr', BigInt.asUintN(64, BigInt(-delta))] };
  }

  counterValue(result: bigint): number | bigint {
    return signedCounterValue(result);
  }
}
