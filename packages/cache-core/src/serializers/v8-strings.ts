import { serialize } from 'node:v8';

/** The two header bytes this Node's V8 writes (0xFF, then its format version). */
const V8_HEADER = serialize('').subarray(0, 2);
const PADDING = 0x00;
const ONE_BYTE_STRING = 0x22; // '"': Latin-1 bytes
const TWO_BYTE_STRING = 0x63; // 'c': UTF-16LE bytes, after padding that aligns them

/**
 * `Buffer#latin1Slice`, what `toString('latin1', start, end)` ends in, called directly: the
 * argument handling in between costs about a sixth of reading a 100-byte string, which a Redis
 * `getMany` does for every value. Node has had it on every Buffer since its first versions.
 */
interface LatinSlicing extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Reads a string written by V8's serializer in `data[offset, end)`, without a V8 Deserializer
 * (about a microsecond to set up each time, the main cost of reading a cached string). Returns
 * `undefined` for anything that is not exactly one string, which V8 then reads as before.
 */
export function readV8String(data: Buffer, offset: number, end = data.length): string | undefined {
  if (data[offset] !== V8_HEADER[0] || data[offset + 1] !== V8_HEADER[1]) return undefined;
  let position = offset + 2;
  while (data[position] === PADDING) position++;
  const tag = data[position++];
  if (tag !== ONE_BYTE_STRING && tag !== TWO_BYTE_STRING) return undefined;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (position >= end || shift > 28) return undefined;
    const byte = data[position++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (position + length !== end) return undefined;
  if (tag === ONE_BYTE_STRING) return (data as LatinSlicing).latin1Slice(position, end);
  return length % 2 === 0 ? data.toString('utf16le', position, end) : undefined;
}
