import type { EntryFormat, EntryHeader } from './entry-format';

/**
 * Django's `FileBasedCache` file (`serializer: 'pickle'`): `pickle.dumps(expiry)` then
 * `zlib.compress(pickle.dumps(value))`, where the expiry is a float epoch or `None` (never).
 *
 * The expiry pickle is the header. It is written here, not with `dumpPickle`, because it must be
 * a pickle float (BINFLOAT) even when the expiry happens to be a whole number of seconds, which
 * `dumpPickle` would write as an int. Written with protocol 4, which every Python Django 3.2 runs
 * on reads (Django itself writes `HIGHEST_PROTOCOL`, 5 from Python 3.8: only the PROTO byte differs):
 *
 * | expiry | bytes |
 * |---|---|
 * | a float | `80 04` PROTO 4, `95` FRAME of 10 bytes (8 bytes, little-endian), `47` BINFLOAT + 8 bytes big-endian, `2e` STOP: 21 bytes |
 * | `None` | `80 04` PROTO 4, `4e` NONE, `2e` STOP: 4 bytes (CPython frames only from 4 bytes of body) |
 */
const Op = { PROTO: 0x80, FRAME: 0x95, BINFLOAT: 0x47, NONE: 0x4e, STOP: 0x2e } as const;
const WRITTEN_PROTOCOL = 4;
const FLOAT_HEADER_LENGTH = 21;
// BINFLOAT, its 8 bytes and STOP: the frame of a float expiry.
const FLOAT_FRAME_LENGTH = 10;
const FRAME_LENGTH_BYTES = 8;

function encodeDjangoHeader(expiry: number | null): Buffer {
  if (expiry === null) return Buffer.from([Op.PROTO, WRITTEN_PROTOCOL, Op.NONE, Op.STOP]);
  const header = Buffer.alloc(FLOAT_HEADER_LENGTH);
  header[0] = Op.PROTO;
  header[1] = WRITTEN_PROTOCOL;
  header[2] = Op.FRAME;
  header.writeBigUInt64LE(BigInt(FLOAT_FRAME_LENGTH), 3);
  header[11] = Op.BINFLOAT;
  header.writeDoubleBE(expiry, 12);
  header[20] = Op.STOP;
  return header;
}

/** Where the pickle's opcodes start after an optional PROTO (2 to 5) and FRAME, and where that frame ends. */
function openingOf(contents: Buffer): { position: number; frameEnd?: number } | undefined {
  if (contents[0] !== Op.PROTO) return { position: 0 };
  const protocol = contents[1] ?? 0;
  if (protocol < 2 || protocol > 5) return undefined;
  if (protocol < 4 || contents[2] !== Op.FRAME) return { position: 2 };
  const position = 3 + FRAME_LENGTH_BYTES;
  if (contents.length < position) return undefined;
  return { position, frameEnd: position + Number(contents.readBigUInt64LE(3)) };
}

/**
 * Reads the expiry pickle as Python writes a float or `None` with protocols 2 to 5: an optional
 * PROTO, an optional FRAME that must end exactly at STOP, BINFLOAT or NONE, then STOP. Anything
 * else (an empty file included, which Django counts as expired) is not a header to trust.
 */
function decodeDjangoHeader(contents: Buffer): EntryHeader | undefined {
  const opening = openingOf(contents);
  if (!opening) return undefined;
  const { position, frameEnd } = opening;
  const isFloat = contents[position] === Op.BINFLOAT && contents.length >= position + 9;
  if (!isFloat && contents[position] !== Op.NONE) return undefined;
  const stop = position + (isFloat ? 9 : 1);
  if (contents[stop] !== Op.STOP || (frameEnd !== undefined && frameEnd !== stop + 1)) return undefined;
  return { expiry: isFloat ? contents.readDoubleBE(position + 1) : null, bodyOffset: stop + 1 };
}

export const djangoFormat: EntryFormat = {
  suffix: '.djcache',
  maxHeaderLength: FLOAT_HEADER_LENGTH,
  // Django's `glob.glob1(dir, '*.djcache')`: every name with the suffix except hidden ones, so
  // both sides count, cull and clear the same files. Temporary files (Django's `tmpXXXXXXXX`,
  // Cachette's `<name>.djcache.<random>.tmp`) and lock files (`<name>.djcache.lock`) never match.
  isCacheFileName: (name) => name.endsWith('.djcache') && !name.startsWith('.'),
  encodeHeader: encodeDjangoHeader,
  decodeHeader: decodeDjangoHeader,
};
