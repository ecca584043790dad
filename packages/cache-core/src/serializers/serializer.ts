/**
 * Turns values into bytes and back. Backends that store bytes (file, SQL, memcached, Redis) use
 * one; locmem uses one to keep copies.
 */
export interface Serializer {
  /** A short stable name, recorded where a backend has room for it. */
  readonly name: string;
  /** Throws `SerializationError` for a value it cannot represent; never drops data silently. */
  serialize(value: unknown): Buffer;
  /** Throws `SerializationError` for bytes it did not write. */
  deserialize(data: Buffer): unknown;
  /**
   * Optional: `deserialize` of `data[start, end)` without a Buffer for the slice, for a backend
   * that reads many values out of one reply (Redis `MGET`). Same results, same errors.
   */
  deserializeRange?(data: Buffer, start: number, end: number): unknown;
}

/** `data[start, end)` deserialized, in place where the serializer can. */
export function deserializeRange(serializer: Serializer, data: Buffer, start: number, end: number): unknown {
  return serializer.deserializeRange ? serializer.deserializeRange(data, start, end) : serializer.deserialize(data.subarray(start, end));
}

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Safe integers are stored as plain decimal text by every serializer, so server-side increments
 * (memcached `incr`, Redis `INCRBY`) work on them and other clients read them.
 */
export function isDecimalInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && !Object.is(value, -0);
}

export function encodeDecimalInteger(value: number): Buffer {
  return Buffer.from(String(value), 'latin1');
}

/**
 * Reads decimal text back as a number, or a bigint beyond the safe range (after a server-side
 * increment). `maxLength`: longer text is not an integer (21 fits any 64-bit counter; Python
 * writes integers of any size, up to its own limit of 4300 digits).
 */
export function decodeDecimalInteger(data: Buffer, maxLength = 21): number | bigint | undefined {
  return decodeDecimalIntegerRange(data, 0, data.length, maxLength);
}

/** `decodeDecimalInteger` of `data[start, end)`. */
export function decodeDecimalIntegerRange(data: Buffer, start: number, end: number, maxLength = 21): number | bigint | undefined {
  if (end <= start || end - start > maxLength) return undefined;
  const text = data.toString('latin1', start, end);
  if (!DECIMAL_INTEGER.test(text)) return undefined;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : BigInt(text);
}
