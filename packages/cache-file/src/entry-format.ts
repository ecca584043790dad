import { deflate, deflateSync, inflate, inflateSync } from 'node:zlib';
import { promisify } from 'node:util';

/** A file's expiry (epoch seconds, `null`: never) and where its compressed body starts. */
export interface EntryHeader {
  expiry: number | null;
  bodyOffset: number;
}

/**
 * How one kind of cache file is named and how its expiry header is written. Every kind keeps the
 * value as a zlib-compressed serialization after the header.
 */
export interface EntryFormat {
  /** Ends every cache file's name: a file named otherwise is never read, culled or cleared. */
  readonly suffix: string;
  /** The longest header, so `touch` can read the header without the body. */
  readonly maxHeaderLength: number;
  /** Whether a directory entry is one of this format's cache files (temporary and lock files are not). */
  isCacheFileName(name: string): boolean;
  encodeHeader(expiry: number | null): Buffer;
  /** The header at the start of `contents`, or `undefined` when they are not a file of this format. */
  decodeHeader(contents: Buffer): EntryHeader | undefined;
}

/**
 * Cachette's own cache file, format version 1:
 *
 * | bytes | content |
 * |---|---|
 * | 0–2 | `CCF` (Cachette cache file) |
 * | 3 | format version, `1` |
 * | 4–11 | expiry in epoch seconds, big-endian float64; NaN means "never expires" |
 * | 12– | the serialized value, zlib-compressed (its Adler-32 checksum catches torn or damaged bodies) |
 *
 * The header has a fixed length so `touch` can rewrite it with one positioned write.
 */
const MAGIC = Buffer.from('CCF', 'latin1');
const FORMAT_VERSION = 1;
const EXPIRY_OFFSET = 4;
export const HEADER_LENGTH = 12;
// Only names this format writes: md5 hex + suffix. Temporary and lock files never match.
const CACHETTE_FILE_NAME = /^[0-9a-f]{32}\.cachette$/;

export const cachetteFormat: EntryFormat = {
  suffix: '.cachette',
  maxHeaderLength: HEADER_LENGTH,
  isCacheFileName: (name) => CACHETTE_FILE_NAME.test(name),

  encodeHeader(expiry) {
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    MAGIC.copy(header, 0);
    header[MAGIC.length] = FORMAT_VERSION;
    header.writeDoubleBE(expiry ?? Number.NaN, EXPIRY_OFFSET);
    return header;
  },

  decodeHeader(contents) {
    if (contents.length < HEADER_LENGTH || contents.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
    if (contents[MAGIC.length] !== FORMAT_VERSION) return undefined;
    const expiry = contents.readDoubleBE(EXPIRY_OFFSET);
    return { expiry: Number.isNaN(expiry) ? null : expiry, bodyOffset: HEADER_LENGTH };
  },
};

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

/**
 * Throws a zlib error when the body is truncated or damaged, and a `RangeError` when it would
 * inflate past `maxOutputLength` bytes: zlib compresses up to about 1000:1, so without the bound
 * a damaged or planted file of a megabyte could take a gigabyte of memory to read. Bytes after the
 * end of the zlib stream are ignored, as Python's `zlib.decompress` ignores them: Django's `touch`
 * rewrites a file in place without truncating it, so a shorter rewrite leaves the old tail behind.
 */
export function decompressBody(body: Buffer, maxOutputLength: number): Buffer | Promise<Buffer> {
  const bound = { maxOutputLength };
  return body.length <= SYNC_COMPRESSION_LIMIT / 4 ? inflateSync(body, bound) : inflateAsync(body, bound);
}
