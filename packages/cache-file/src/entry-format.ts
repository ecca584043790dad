import { deflate, deflateSync, inflate, inflateSync } from 'node:zlib';
import { promisify } from 'node:util';

/**
 * A cache file, format version 1:
 *
 * | bytes | content |
 * |---|---|
 * | 0–2 | `CCF` (Cachette cache file) |
 * | 3 | format version, `1` |
 * | 4–11 | expiry in epoch seconds, big-endian float64; NaN means "never expires" |
 * | 12– | the serialized value, zlib-compressed (its Adler-32 checksum catches torn or damaged bodies) |
 *
 * The expiry has a fixed place so `touch` can rewrite it with one positioned write.
 */
const MAGIC = Buffer.from('CCF', 'latin1');
const FORMAT_VERSION = 1;
export const EXPIRY_OFFSET = 4;
export const HEADER_LENGTH = 12;

export function encodeExpiry(expiry: number | null): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER_LENGTH - EXPIRY_OFFSET);
  bytes.writeDoubleBE(expiry ?? Number.NaN, 0);
  return bytes;
}

export function encodeHeader(expiry: number | null): Buffer {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  header[MAGIC.length] = FORMAT_VERSION;
  header.writeDoubleBE(expiry ?? Number.NaN, EXPIRY_OFFSET);
  return header;
}

/** The expiry recorded in a header (`null`: never), or `undefined` when the bytes are not a version-1 cache file. */
export function decodeExpiry(header: Buffer): number | null | undefined {
  if (header.length < HEADER_LENGTH || header.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
  if (header[MAGIC.length] !== FORMAT_VERSION) return undefined;
  const expiry = header.readDoubleBE(EXPIRY_OFFSET);
  return Number.isNaN(expiry) ? null : expiry;
}

/** Django's rule: an entry expires once its expiry is strictly in the past. */
export function isExpired(expiry: number | null, nowSeconds: number): boolean {
  return expiry !== null && expiry < nowSeconds;
}

// Small values compress faster on the calling thread than the thread-pool round trip costs.
const SYNC_COMPRESSION_LIMIT = 64 * 1024;
const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

export function compressBody(serialized: Buffer): Buffer | Promise<Buffer> {
  return serialized.length <= SYNC_COMPRESSION_LIMIT ? deflateSync(serialized) : deflateAsync(serialized);
}

/** Throws a zlib error when the body is truncated or damaged. */
export function decompressBody(body: Buffer): Buffer | Promise<Buffer> {
  return body.length <= SYNC_COMPRESSION_LIMIT / 4 ? inflateSync(body) : inflateAsync(body);
}
