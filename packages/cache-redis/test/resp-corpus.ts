/**
 * Random RESP2 replies for the differential decoder test and the parser benchmark: simple strings,
 * errors, integers, bulk strings (binary, empty, null, large), arrays (nested, empty, null).
 */
import { seededRandom } from '@cachette/test-servers';

export interface CorpusShape {
  /** Relative weights of the reply kinds. */
  simple: number;
  error: number;
  integer: number;
  bulk: number;
  array: number;
  large: number;
  /** Size of a "large" bulk string in bytes. */
  largeSize: number;
}

export const MIXED_CORPUS: CorpusShape = { simple: 2, error: 1, integer: 3, bulk: 4, array: 3, large: 0.05, largeSize: 100_000 };

function randomText(random: () => number, maxLength: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 :-_';
  let text = '';
  const length = Math.floor(random() * maxLength);
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = random() < 0.1 ? (random() < 0.5 ? 13 : 10) : Math.floor(random() * 256);
  return bytes;
}

function bulk(bytes: Buffer | null): Buffer {
  if (bytes === null) return Buffer.from('$-1\r\n');
  return Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
}

function pick(random: () => number, shape: CorpusShape, depth: number): string {
  const kinds = (['simple', 'error', 'integer', 'bulk', 'array', 'large'] as const).filter((kind) => kind !== 'array' || depth < 3);
  const total = kinds.reduce((sum, kind) => sum + shape[kind], 0);
  let roll = random() * total;
  for (const kind of kinds) {
    roll -= shape[kind];
    if (roll < 0) return kind;
  }
  return 'integer';
}

function reply(random: () => number, shape: CorpusShape, depth: number): Buffer {
  switch (pick(random, shape, depth)) {
    case 'simple':
      return Buffer.from(`+${randomText(random, 20)}\r\n`);
    case 'error':
      return Buffer.from(`-ERR ${randomText(random, 40)}\r\n`);
    case 'integer':
      return Buffer.from(`:${Math.floor((random() - 0.5) * 2 ** (1 + Math.floor(random() * 52)))}\r\n`);
    case 'bulk':
      return bulk(random() < 0.1 ? null : randomBytes(random, Math.floor(random() * 200)));
    case 'large':
      return bulk(randomBytes(random, shape.largeSize));
    default: {
      if (random() < 0.05) return Buffer.from('*-1\r\n');
      const count = Math.floor(random() * 12);
      const items = Array.from({ length: count }, () => reply(random, shape, depth + 1));
      return Buffer.concat([Buffer.from(`*${count}\r\n`), ...items]);
    }
  }
}

/** `count` replies, concatenated as they would arrive on a socket. */
export function generateReplies(seed: number, count: number, shape: CorpusShape = MIXED_CORPUS): Buffer {
  const random = seededRandom(seed);
  return Buffer.concat(Array.from({ length: count }, () => reply(random, shape, 0)));
}

/** Splits `wire` at random boundaries (1 byte up to `maxChunk`). */
export function randomChunks(wire: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < wire.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(wire.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
