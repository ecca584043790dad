import { SerializationError } from '../errors';
import { decodeDecimalIntegerRange, encodeDecimalInteger, isDecimalInteger, type Serializer } from './serializer';

function reject(path: string, what: string): never {
  throw new SerializationError(`The JSON serializer cannot store ${what} at ${path || 'the top level'}; use the v8 serializer`);
}

/** Walks the value first so nothing JSON would drop or mangle silently gets through. */
function checkJsonSafe(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) reject(path, String(value));
      // JSON.stringify writes -0 as 0.
      if (Object.is(value, -0)) reject(path, '-0');
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) reject(path, 'a cyclic reference');
      if (Array.isArray(value)) {
        seen.add(value);
        value.forEach((item, index) => checkJsonSafe(item, `${path}[${index}]`, seen));
        seen.delete(value);
        return;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) reject(path, `a ${prototype?.constructor?.name ?? 'class'} instance`);
      seen.add(value);
      for (const [key, item] of Object.entries(value)) checkJsonSafe(item, `${path}.${key}`, seen);
      seen.delete(value);
      return;
    }
    default:
      reject(path, `a value of type ${typeof value}`);
  }
}

function readJson(data: Buffer, start: number, end: number): unknown {
  const integer = decodeDecimalIntegerRange(data, start, end);
  if (integer !== undefined) return integer;
  try {
    return JSON.parse(data.toString('utf8', start, end));
  } catch (error) {
    throw new SerializationError(`Stored value is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Portable JSON text, readable from any language. Stores strings, finite numbers, booleans, null,
 * arrays and plain objects; rejects everything else (undefined, BigInt, Date, Map, Buffer, …)
 * instead of changing it. Safe integers are their decimal text, which is also valid JSON.
 */
export const jsonSerializer: Serializer = {
  name: 'json',

  serialize(value: unknown): Buffer {
    if (isDecimalInteger(value)) return encodeDecimalInteger(value);
    checkJsonSafe(value, '', new Set());
    const text = JSON.stringify(value);
    // Decimal text beyond 2^53 reads back as a BigInt (a counter the server incremented): a number
    // that JSON writes that way gets a fraction, so it reads back as a number.
    return Buffer.from(typeof value === 'number' && /^-?\d+$/.test(text) ? `${text}.0` : text, 'utf8');
  },

  deserialize(data: Buffer): unknown {
    return readJson(data, 0, data.length);
  },

  deserializeRange: readJson,
};
