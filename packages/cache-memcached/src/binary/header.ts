/**
 * The binary protocol's 24-byte header (`doc/protocol-binary.txt`) and its constants.
 *
 *   0 magic | 1 opcode | 2-3 key length | 4 extras length | 5 data type | 6-7 vbucket (request) or
 *   status (response) | 8-11 total body length | 12-15 opaque | 16-23 CAS
 *
 * The body follows: extras, key, value. A packet is handled as one Buffer (header and body), and
 * these accessors read its fields where they lie.
 */

export const HEADER_SIZE = 24;
export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;

export const Opcode = {
  get: 0x00,
  set: 0x01,
  add: 0x02,
  replace: 0x03,
  delete: 0x04,
  increment: 0x05,
  decrement: 0x06,
  flush: 0x08,
  getQ: 0x09,
  noop: 0x0a,
  version: 0x0b,
  getK: 0x0c,
  getKQ: 0x0d,
  append: 0x0e,
  prepend: 0x0f,
  stat: 0x10,
  setQ: 0x11,
  deleteQ: 0x14,
  touch: 0x1c,
  getAndTouch: 0x1d,
  saslAuth: 0x21,
  getAndTouchK: 0x23,
  getAndTouchKQ: 0x24,
} as const;

export const Status = {
  noError: 0x00,
  keyNotFound: 0x01,
  keyExists: 0x02,
  valueTooLarge: 0x03,
  invalidArguments: 0x04,
  itemNotStored: 0x05,
  nonNumeric: 0x06,
  authError: 0x20,
  authContinue: 0x21,
  unknownCommand: 0x81,
  outOfMemory: 0x82,
} as const;

const STATUS_TEXT: Record<number, string> = {
  [Status.keyNotFound]: 'key not found',
  [Status.keyExists]: 'key exists',
  [Status.valueTooLarge]: 'value too large',
  [Status.invalidArguments]: 'invalid arguments',
  [Status.itemNotStored]: 'item not stored',
  [Status.nonNumeric]: 'incr/decr on a non-numeric value',
  [Status.authError]: 'authentication error',
  [Status.authContinue]: 'authentication continue',
  [Status.unknownCommand]: 'unknown command',
  [Status.outOfMemory]: 'out of memory',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `status 0x${status.toString(16)}`;
}

export const packetOpcode = (packet: Buffer): number => packet[1]!;
export const packetStatus = (packet: Buffer): number => packet.readUInt16BE(6);
export const packetOpaque = (packet: Buffer): number => packet.readUInt32BE(12);
export const packetCas = (packet: Buffer): bigint => packet.readBigUInt64BE(16);
export const packetBodyLength = (packet: Buffer, offset = 0): number => packet.readUInt32BE(offset + 8);

function keyStart(packet: Buffer): number {
  return HEADER_SIZE + packet[4]!;
}

export function packetExtras(packet: Buffer): Buffer {
  return packet.subarray(HEADER_SIZE, keyStart(packet));
}

export function packetKey(packet: Buffer): string {
  const start = keyStart(packet);
  return packet.toString('utf8', start, start + packet.readUInt16BE(2));
}

/** Where the value starts in the packet (it runs to the packet's end). */
export function packetValueStart(packet: Buffer): number {
  return keyStart(packet) + packet.readUInt16BE(2);
}

export function packetValue(packet: Buffer): Buffer {
  return packet.subarray(packetValueStart(packet));
}

export const packetExtrasLength = (packet: Buffer): number => packet[4]!;

/** A get response's flags: its 4 bytes of extras. */
export function packetFlags(packet: Buffer): number {
  return packet.readUInt32BE(HEADER_SIZE);
}
