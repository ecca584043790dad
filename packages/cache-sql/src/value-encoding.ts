import { isDecimalInteger, pickleSerializer, type Serializer } from '@cachette/cache-core';
import { INTEGER_MARKER, parseStoredInteger } from './dialects/dialect';

/** How values become a row's `value` column, and whether rows are to be Django's. */
export interface RowEncoding {
  encode(value: unknown): string;
  /** Throws the serializer's `SerializationError` for a value it did not write. */
  decode(stored: unknown): unknown;
  /**
   * Rows exactly as Django's `DatabaseCache` writes them: every value, integers too, is
   * `base64(pickle)` (so `incr` cannot be done in SQL), and expiries are whole seconds.
   */
  readonly django: boolean;
}

const fromBase64 = (stored: unknown): Buffer => Buffer.from(String(stored), 'base64');

/**
 * The `value` column is text, as in Django's table. With the v8 and json serializers (and your
 * own), safe integers are stored as `int:<decimal>` so that `incr` can be one SQL statement, and
 * everything else is the base64 of the serializer's bytes (`:` is not a base64 character, so the
 * two never meet). With the pickle serializer, every value is base64 of its pickle, as Django
 * stores it, so a Django site reads and writes the same rows.
 */
export function rowEncoding(serializer: Serializer): RowEncoding {
  if (serializer.name === pickleSerializer.name) {
    return {
      encode: (value) => serializer.serialize(value).toString('base64'),
      decode: (stored) => serializer.deserialize(fromBase64(stored)),
      django: true,
    };
  }
  return {
    encode: (value) => (isDecimalInteger(value) ? `${INTEGER_MARKER}${value}` : serializer.serialize(value).toString('base64')),
    decode: (stored) => parseStoredInteger(stored) ?? serializer.deserialize(fromBase64(stored)),
    django: false,
  };
}
