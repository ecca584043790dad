import { hashTag } from '../ring';

/** Redis Cluster divides the key space into this many hash slots. */
export const SLOT_COUNT = 16_384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with.
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = crc & 0xffff;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (let index = 0; index < bytes.length; index++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[index]!) & 0xff]!;
  return crc;
}

/** A text of code units below 0x80 is its own UTF-8: hashed without allocating a Buffer. */
function asciiCrc16(text: string): number | undefined {
  let crc = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) return undefined;
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ unit) & 0xff]!;
  }
  return crc;
}

/**
 * The hash slot of a key: CRC16 of its UTF-8 bytes modulo 16384, or of its `{hash tag}` when it
 * has a non-empty one, so `user:{42}:name` and `user:{42}:mail` share a slot (and a node).
 */
export function keySlot(key: string): number {
  const hashed = hashTag(key);
  return (asciiCrc16(hashed) ?? crc16(Buffer.from(hashed, 'utf8'))) % SLOT_COUNT;
}
