import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import { SerializationError } from '../errors';
import { decodeDecimalIntegerRange, encodeDecimalInteger, isDecimalInteger, type Serializer } from './serializer';
import { readV8String } from './v8-strings';

/**
 * Stored format, version 1:
 * - a safe integer: its decimal text (`42`, `-7`);
 * - anything else: the bytes `0xCA 0x01` (Cachette, format 1) followed by Node's V8 serialization
 *   (`v8.serialize`), which round-trips strings, numbers, booleans, null, undefined, BigInt, Date,
 *   RegExp, Buffer and typed arrays, Map, Set, arrays, plain objects and Errors, nested and cyclic.
 */
const MAGIC = 0xca;
const FORMAT_VERSION = 1;
const HEADER = Buffer.from([MAGIC, FORMAT_VERSION]);

function typeName(value: unknown): string {
  if (typeof value === 'function') return 'function';
  if (typeof value === 'symbol') return 'symbol';
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** A stored value from `data[start, end)`; a Buffer of its own only for what V8 must read. */
function readStored(data: Buffer, start: number, end: number): unknown {
  if (end - start >= 2 && data[start] === MAGIC) {
    if (data[start + 1] !== FORMAT_VERSION) {
      throw new SerializationError(`Stored value has Cachette format ${data[start + 1]}; this version reads format ${FORMAT_VERSION}`);
    }
    const text = readV8String(data, start + HEADER.length, end);
    if (text !== undefined) return text;
    try {
      const deserializer = new DefaultDeserializer(data.subarray(start, end));
      deserializer.readRawBytes(HEADER.length);
      deserializer.readHeader();
      return deserializer.readValue();
    } catch (error) {
      throw new SerializationError(`Stored value is corrupt: ${(error as Error).message}`, { cause: error });
    }
  }
  const integer = decodeDecimalIntegerRange(data, start, end);
  if (integer === undefined) throw new SerializationError('Stored value was not written by the v8 serializer');
  return integer;
}

export const v8Serializer: Serializer = {
  name: 'v8',

  serialize(value: unknown): Buffer {
    if (isDecimalInteger(value)) return encodeDecimalInteger(value);
    const serializer = new DefaultSerializer();
    serializer.writeRawBytes(HEADER);
    serializer.writeHeader();
    try {
      serializer.writeValue(value);
    } catch (error) {
      throw new SerializationError(
        `Cannot serialize a value of type ${typeName(value)}: ${(error as Error).message} ` +
          '(the v8 serializer stores data, not functions, symbols, promises or class behaviour)',
        { cause: error },
      );
    }
    return serializer.releaseBuffer();
  },

  deserialize(data: Buffer): unknown {
    return readStored(data, 0, data.length);
  },

  deserializeRange: readStored,
};
