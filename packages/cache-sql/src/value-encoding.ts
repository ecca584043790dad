import { isDecimalInteger, type Serializer } from '@cachette/cache-core';
import { INTEGER_MARKER, parseStoredInteger } from './dialects/dialect';

/**
 * The `value` column is text, as in Django's table. Safe integers are stored as `int:<decimal>`
 * so that `incr` can be one SQL statement; everything else is the base64 of the serializer's
 * bytes (`:` is not a base64 character, so the two never meet).
 */
export function encodeValue(value: unknown, serializer: Serializer): string {
  return isDecimalInteger(value) ? `${INTEGER_MARKER}${value}` : serializer.serialize(value).toString('base64');
}

export function decodeValue(stored: unknown, serializer: Serializer): unknown {
  return parseStoredInteger(stored) ?? serializer.deserialize(Buffer.from(String(stored), 'base64'));
}
