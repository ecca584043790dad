import { deflateSync, inflateSync } from 'node:zlib';
import { decodeDecimalInteger, isDecimalInteger, type Serializer } from '@cachette/cache-core';
import type { CompressionOptions } from './compression';

/** Python's own limit on the digits `int()` reads. */
const PYTHON_MAX_DIGITS = 4300;
/** django-redis's `ZlibCompressor`: pickles longer than 15 bytes are compressed, at level 6. */
const DJANGO_REDIS_MIN_LENGTH = 15;

/** A zlib stream's two-byte header: deflate with a 32 KiB window (0x78), and a check multiple of 31. */
function looksZlib(data: Buffer): boolean {
  return data.length > 2 && data[0] === 0x78 && ((data[0] << 8) | data[1]!) % 31 === 0;
}

/**
 * Inflates what django-redis's zlib compressor wrote; anything else is read as it is, as
 * django-redis does for values too short to have been compressed. A pickle of protocol 2 or
 * later (what both sides write) starts with 0x80, so the two cannot be confused.
 */
function inflateIfCompressed(data: Buffer): Buffer {
  if (!looksZlib(data)) return data;
  try {
    return inflateSync(data);
  } catch {
    return data;
  }
}

/**
 * What django-redis (and Django 4's own `RedisCache`) store: an integer as its decimal text
 * (redis-py sends `int` that way, so `INCRBY` works on both sides, whatever its size), anything
 * else as a pickle, zlib-compressed above 15 bytes when `compress` is on (django-redis's
 * `ZlibCompressor`; integers are never compressed). Booleans are pickled: in Python they are
 * ints, but neither Python backend writes them as text. Reading tries decimal text first, then
 * a zlib stream, then the pickle, in django-redis's order.
 */
export function djangoRedisSerializer(pickle: Serializer, compress: CompressionOptions | undefined): Serializer {
  const threshold = compress?.threshold ?? DJANGO_REDIS_MIN_LENGTH + 1;
  const pickled = (value: unknown): Buffer => {
    const bytes = pickle.serialize(value);
    return compress && bytes.length >= threshold ? deflateSync(bytes, { level: compress.level ?? 6 }) : bytes;
  };
  return {
    name: pickle.name,
    serialize: (value) => (isDecimalInteger(value) || typeof value === 'bigint' ? Buffer.from(String(value), 'latin1') : pickled(value)),
    deserialize: (data) => decodeDecimalInteger(data, PYTHON_MAX_DIGITS + 1) ?? pickle.deserialize(inflateIfCompressed(data)),
  };
}
