import { HEADER_SIZE, REQUEST_MAGIC } from './header';

/** memcached reads an exptime beyond 30 days as a Unix time; this one is long past, so already expired. */
const EXPIRED_UNIX_TIME = 30 * 24 * 3600 + 1;

/**
 * Binary exptimes are unsigned: a negative one (Django's "expire now") would wrap to the year
 * 2106. Sends a Unix time in the past instead, which memcached treats as expired.
 */
export function binaryExptime(exptime: number): number {
  return exptime < 0 ? EXPIRED_UNIX_TIME : exptime;
}

/**
 * Writes a request header, key and value into `buffer` at `offset`, leaving `extrasLength` bytes
 * after the header for the caller to fill; returns the offset after the packet.
 */
export function writeRequest(
  buffer: Buffer,
  offset: number,
  opcode: number,
  key: string | undefined,
  keyLength: number,
  extrasLength: number,
  value: Buffer | undefined,
  opaque: number,
  cas: bigint | undefined,
): number {
  const bodyLength = extrasLength + keyLength + (value?.length ?? 0);
  buffer[offset] = REQUEST_MAGIC;
  buffer[offset + 1] = opcode;
  buffer.writeUInt16BE(keyLength, offset + 2);
  buffer[offset + 4] = extrasLength;
  buffer[offset + 5] = 0;
  buffer.writeUInt16BE(0, offset + 6);
  buffer.writeUInt32BE(bodyLength, offset + 8);
  buffer.writeUInt32BE(opaque, offset + 12);
  buffer.writeBigUInt64BE(cas ?? 0n, offset + 16);
  let end = offset + HEADER_SIZE + extrasLength;
  if (key !== undefined) end += buffer.write(key, end, 'utf8');
  if (value) end += value.copy(buffer, end);
  return end;
}

/** The size of a request packet. */
export function requestSize(keyLength: number, extrasLength: number, value: Buffer | undefined): number {
  return HEADER_SIZE + extrasLength + keyLength + (value?.length ?? 0);
}

/** One request packet in a Buffer of its own; extras start at `HEADER_SIZE`. */
export function encodeRequest(opcode: number, key?: string, extrasLength = 0, value?: Buffer, opaque = 0, cas?: bigint): Buffer {
  const keyLength = key === undefined ? 0 : Buffer.byteLength(key);
  const buffer = Buffer.allocUnsafe(requestSize(keyLength, extrasLength, value));
  writeRequest(buffer, 0, opcode, key, keyLength, extrasLength, value, opaque, cas);
  return buffer;
}
