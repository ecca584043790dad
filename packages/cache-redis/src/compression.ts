import { brotliCompressSync, brotliDecompressSync, constants, deflateSync, gzipSync, gunzipSync, inflateSync } from 'node:zlib';
import { SerializationError } from '@cachette/cache-core';

export type CompressionAlgorithm = 'zlib' | 'gzip' | 'brotli';

export interface CompressionOptions {
  /** Default `'zlib'`. */
  algorithm?: CompressionAlgorithm;
  /** Values of at least this many serialized bytes are compressed. Default 1024. */
  threshold?: number;
  /** Compression level (zlib/gzip 0-9, default 6; brotli 0-11, default 4). */
  level?: number;
}

interface Codec {
  id: number;
  compress(data: Buffer, level: number | undefined): Buffer;
  decompress(data: Buffer): Buffer;
}

const CODECS: Record<CompressionAlgorithm, Codec> = {
  zlib: { id: 1, compress: (data, level) => deflateSync(data, { level: level ?? 6 }), decompress: (data) => inflateSync(data) },
  gzip: { id: 2, compress: (data, level) => gzipSync(data, { level: level ?? 6 }), decompress: (data) => gunzipSync(data) },
  brotli: {
    id: 3,
    compress: (data, level) => brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: level ?? 4 } }),
    decompress: (data) => brotliDecompressSync(data),
  },
};

const CODEC_BY_ID = new Map(Object.values(CODECS).map((codec) => [codec.id, codec]));

/**
 * Stored form of a compressed value: `0xCA 0x5A` ("Cachette, zipped"), one byte naming the
 * algorithm, then the compressed serialized bytes. Anything else is an uncompressed value, so
 * turning compression on or off never makes stored values unreadable.
 */
const MAGIC = 0xca;
const COMPRESSED = 0x5a;
const HEADER_LENGTH = 3;

export class Compressor {
  private readonly codec: Codec;
  private readonly threshold: number;

  constructor(private readonly options: CompressionOptions) {
    const codec = CODECS[options.algorithm ?? 'zlib'];
    if (codec === undefined) throw new TypeError(`Redis option compress.algorithm must be zlib, gzip or brotli; got ${String(options.algorithm)}`);
    this.codec = codec;
    this.threshold = options.threshold ?? 1024;
  }

  /** Compresses serialized bytes above the threshold, when that makes them smaller. */
  compress(data: Buffer): Buffer {
    if (data.length < this.threshold) return data;
    const compressed = this.codec.compress(data, this.options.level);
    if (compressed.length + HEADER_LENGTH >= data.length) return data;
    return Buffer.concat([Buffer.from([MAGIC, COMPRESSED, this.codec.id]), compressed]);
  }
}

/** Whether `data[start, end)` is a value a `Compressor` compressed. */
export function isCompressed(data: Buffer, start = 0, end = data.length): boolean {
  return end - start >= HEADER_LENGTH && data[start] === MAGIC && data[start + 1] === COMPRESSED;
}

/** Undoes any `Compressor`, whatever algorithm wrote the value; other bytes pass through. */
export function decompress(data: Buffer): Buffer {
  if (!isCompressed(data)) return data;
  const codec = CODEC_BY_ID.get(data[2]!);
  if (codec === undefined) throw new SerializationError(`Stored value names an unknown compression algorithm (${data[2]})`);
  try {
    return codec.decompress(data.subarray(HEADER_LENGTH));
  } catch (error) {
    throw new SerializationError(`Stored value is not valid compressed data: ${(error as Error).message}`, { cause: error });
  }
}
