/** One argument of a command: sent as a bulk string, so no value can break the framing. */
export type RespArgument = string | Buffer | number | bigint;

const CRLF_LENGTH = 2;

function decimalLength(value: number): number {
  let digits = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    digits++;
  }
  return digits;
}

/** Writes a non-negative integer as ASCII digits; returns the offset after it. */
function writeDecimal(target: Buffer, offset: number, value: number): number {
  const end = offset + decimalLength(value);
  for (let i = end - 1; i >= offset; i--) {
    target[i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
  return end;
}

function writeHeader(target: Buffer, offset: number, marker: number, length: number): number {
  target[offset] = marker;
  offset = writeDecimal(target, offset + 1, length);
  target[offset] = 13;
  target[offset + 1] = 10;
  return offset + CRLF_LENGTH;
}

function headerLength(length: number): number {
  return 1 + decimalLength(length) + CRLF_LENGTH;
}

function argumentText(argument: RespArgument, index: number): string | Buffer {
  if (typeof argument === 'string' || Buffer.isBuffer(argument)) return argument;
  if (typeof argument === 'bigint') return argument.toString();
  if (typeof argument === 'number' && Number.isFinite(argument)) return String(argument);
  throw new TypeError(`Redis command argument ${index} must be a string, Buffer, finite number or bigint; got ${String(argument)}`);
}

function byteLength(text: string | Buffer): number {
  return typeof text === 'string' ? Buffer.byteLength(text) : text.length;
}

/**
 * Buffer arguments at least this long are not copied into the command's bytes: the command is
 * handed over in pieces around them (the connection writes the pieces together, one `writev`).
 * Copying 100 KB costs about as much as the rest of a round trip's own work.
 */
export const LARGE_ARGUMENT_BYTES = 65_536;

/**
 * Byte lengths of the arguments, from the measuring pass, for the writing pass: a long string is
 * scanned once. Encoding is synchronous, so one array, grown as needed, serves every call.
 */
let argumentLengths = new Int32Array(16);

/** A command's bytes: one Buffer, or pieces in order when it carries a large Buffer argument. */
export type CommandBytes = Buffer | Buffer[];

/**
 * Encodes one command (`['SET', key, value]`) as a RESP array of bulk strings, straight into a
 * single Buffer of the exact size: arguments are measured in a first pass, written in a second.
 * Buffer arguments of `LARGE_ARGUMENT_BYTES` or more are left where they are, between pieces of
 * that Buffer, so the caller must not change them until the command is written.
 */
export function encodeCommandBytes(args: readonly RespArgument[]): CommandBytes {
  const count = args.length;
  if (argumentLengths.length < count) argumentLengths = new Int32Array(count * 2);
  let size = headerLength(count);
  for (let i = 0; i < count; i++) {
    const text = argumentText(args[i]!, i);
    const length = byteLength(text);
    argumentLengths[i] = length;
    size += headerLength(length) + CRLF_LENGTH + (isLarge(text) ? 0 : length);
  }
  const target = Buffer.allocUnsafe(size);
  let pieces: Buffer[] | undefined;
  let pieceStart = 0;
  let offset = writeHeader(target, 0, 42 /* * */, count);
  for (let i = 0; i < count; i++) {
    const text = argumentText(args[i]!, i);
    const length = argumentLengths[i]!;
    offset = writeHeader(target, offset, 36 /* $ */, length);
    if (typeof text === 'string') {
      // Short text is copied byte by byte: cheaper than a native write call for keys and command names.
      if (length === text.length && length < 32) for (let j = 0; j < length; j++) target[offset + j] = text.charCodeAt(j);
      else target.write(text, offset);
      offset += length;
    } else if (isLarge(text)) {
      (pieces ??= []).push(target.subarray(pieceStart, offset), text);
      pieceStart = offset;
    } else offset += text.copy(target, offset);
    target[offset] = 13;
    target[offset + 1] = 10;
    offset += CRLF_LENGTH;
  }
  if (pieces === undefined) return target;
  pieces.push(target.subarray(pieceStart, offset));
  return pieces;
}

/** `encodeCommandBytes` as one Buffer (large arguments copied), for a caller that needs a single Buffer. */
export function encodeCommand(args: readonly RespArgument[]): Buffer {
  const bytes = encodeCommandBytes(args);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes);
}

function isLarge(text: string | Buffer): boolean {
  return typeof text !== 'string' && text.length >= LARGE_ARGUMENT_BYTES;
}
