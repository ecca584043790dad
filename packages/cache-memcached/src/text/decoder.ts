import { CacheProtocolError } from '@cachette/cache-core';
import { DeclaredLengthBuffer, MAX_ITEM_BYTES } from '../declared-length-buffer';

/** Where decoded text-protocol replies go, in the order they arrive. */
export interface TextReplySink {
  /**
   * One `VALUE <key> <flags> <bytes> [<cas>]` item: its line, read, and its data in
   * `source[start, end)`. `source` is the socket's chunk itself when the data arrived whole in one
   * chunk (read in place, no copy; the chunk goes on past `end`), otherwise a buffer of its own
   * that gathered the pieces and holds exactly the data (`start` 0, `end` its length). Nothing is
   * ever written to `source` again.
   */
  value(header: ValueHeader, source: Buffer, start: number, end: number): void;
  /** Any other line, without its `\r\n`: `STORED`, `END`, `42`, `STAT …`, `SERVER_ERROR …`. */
  line(line: string): void;
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const VALUE_PREFIX = Buffer.from('VALUE ', 'latin1');
const [V, A, L, U, E] = VALUE_PREFIX;
/** Longer than any reply line memcached sends (a VALUE line with a 250-byte key is under 330). */
const MAX_LINE_BYTES = 8192;

/** A VALUE line, read. Its key stays bytes in the line until asked for as text. */
export class ValueHeader {
  constructor(
    private readonly line: Buffer,
    private readonly keyStart: number,
    private readonly keyEnd: number,
    readonly flags: number,
    /** The data's length, without its trailing `\r\n`. */
    readonly bytes: number,
    readonly cas: bigint | undefined,
  ) {}

  /** The key as text, decoded on each call: a reader that only compares keys (`matches`) never pays for it. */
  get key(): string {
    return (this.line as Utf8Slicing).utf8Slice(this.keyStart, this.keyEnd);
  }

  /** Whether the key is `key`, compared byte by byte without decoding when it is ASCII. */
  matches(key: string): boolean {
    const { line, keyStart } = this;
    const length = this.keyEnd - keyStart;
    // Only a key with characters beyond ASCII takes more bytes in UTF-8 than characters.
    if (length !== key.length) return length > key.length && this.key === key;
    for (let index = 0; index < length; index++) {
      const code = key.charCodeAt(index);
      if (code > 0x7f || code !== line[keyStart + index]) return false;
    }
    return true;
  }
}

/** A value whose data is still arriving: its header, and its data and trailing `\r\n` so far. */
interface PendingValue {
  header: ValueHeader;
  data: DeclaredLengthBuffer;
}

/** `Buffer#utf8Slice`, what `toString('utf8', start, end)` ends in, called without the argument handling in between. */
interface Utf8Slicing extends Buffer {
  utf8Slice(start: number, end: number): string;
}

/** Byte by byte: `Buffer#compare` with offsets is a call into C++, dearer than six comparisons. */
function startsWithValue(chunk: Buffer, offset: number): boolean {
  return (
    chunk.length - offset > VALUE_PREFIX.length &&
    chunk[offset] === V &&
    chunk[offset + 1] === A &&
    chunk[offset + 2] === L &&
    chunk[offset + 3] === U &&
    chunk[offset + 4] === E &&
    chunk[offset + 5] === SPACE
  );
}

/** A decimal number of at most 20 digits from `chunk[start, end)`, or -1. */
function parseUnsigned(chunk: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 20) return -1;
  let result = 0;
  for (let index = start; index < end; index++) {
    const digit = chunk[index]! - 48;
    if (digit < 0 || digit > 9) return -1;
    result = result * 10 + digit;
  }
  return result;
}

/** The first space in `chunk[start, end)`, or `end`: a loop over a few bytes costs less than `indexOf`'s call into C++. */
function spaceWithin(chunk: Buffer, start: number, end: number): number {
  let index = start;
  while (index < end && chunk[index] !== SPACE) index++;
  return index;
}

/** Throws unless the value's data, ending at `source[end]`, is followed by `\r\n`. */
function checkValueEnd(header: ValueHeader, source: Buffer, end: number): void {
  if (source[end] !== CR || source[end + 1] !== LF) {
    throw new CacheProtocolError(`Memcached value for key '${header.key}' is not followed by \\r\\n: the reply stream is out of step`);
  }
}

function malformed(chunk: Buffer, start: number, end: number): CacheProtocolError {
  return new CacheProtocolError(`Malformed memcached reply line: ${JSON.stringify(chunk.toString('latin1', start, Math.min(end, start + 80)))}`);
}

/**
 * A push parser for text-protocol replies: `write(chunk)` with whatever the socket delivered, and
 * each complete reply goes to the sink. Values are read by their declared byte length, never by
 * looking for `\r\n`, so binary data and values containing `\r\nEND\r\n` are exact.
 * Throws `CacheProtocolError` on bytes that cannot be a reply; the stream is then unusable.
 */
export class TextReplyDecoder {
  private partialLine: Buffer | undefined;
  private pendingValue: PendingValue | undefined;

  constructor(private readonly sink: TextReplySink) {}

  write(chunk: Buffer): void {
    let offset = 0;
    if (this.pendingValue) {
      offset = this.continueValue(this.pendingValue, chunk, 0);
      if (offset === chunk.length) return;
    }
    if (this.partialLine) {
      offset = this.finishPartialLine(chunk, offset);
      if (offset === chunk.length) return;
    }
    while (offset < chunk.length) {
      const lineFeed = chunk.indexOf(LF, offset);
      if (lineFeed === -1) {
        this.keepPartialLine(chunk.subarray(offset));
        return;
      }
      offset = this.readLine(chunk, offset, lineFeed, chunk);
    }
  }

  /** Forgets any partial reply (after the connection was dropped). */
  reset(): void {
    this.partialLine = undefined;
    this.pendingValue = undefined;
  }

  /**
   * Handles the line `buffer[start, lineFeed]`: a reply line goes to the sink; a VALUE line starts
   * a value whose data follows in `chunk` (the buffer itself, or the chunk after a partial line).
   * Returns where reading continues in `chunk`.
   */
  private readLine(buffer: Buffer, start: number, lineFeed: number, chunk: Buffer): number {
    const next = buffer === chunk ? lineFeed + 1 : 0;
    const lineEnd = lineFeed > start && buffer[lineFeed - 1] === CR ? lineFeed - 1 : lineFeed;
    if (!startsWithValue(buffer, start)) {
      this.sink.line(buffer.toString('latin1', start, lineEnd));
      return next;
    }
    return this.readValue(this.readValueHeader(buffer, start + VALUE_PREFIX.length, lineEnd), chunk, next);
  }

  /** Reads the value's data from `chunk[offset…]` (in place when it is all there); returns where reading continues. */
  private readValue(header: ValueHeader, chunk: Buffer, offset: number): number {
    const end = offset + header.bytes;
    if (end + 2 > chunk.length) return this.continueValue({ header, data: new DeclaredLengthBuffer(header.bytes + 2) }, chunk, offset);
    checkValueEnd(header, chunk, end);
    this.sink.value(header, chunk, offset, end);
    return end + 2;
  }

  /** Completes a line begun in an earlier chunk with as little of `chunk` as it needs. */
  private finishPartialLine(chunk: Buffer, offset: number): number {
    const lineFeed = chunk.indexOf(LF, offset);
    const partial = this.partialLine!;
    this.partialLine = undefined;
    if (lineFeed === -1) {
      this.keepPartialLine(Buffer.concat([partial, chunk.subarray(offset)]));
      return chunk.length;
    }
    const line = Buffer.concat([partial, chunk.subarray(offset, lineFeed + 1)]);
    const rest = chunk.subarray(lineFeed + 1);
    const used = this.readLine(line, 0, line.length - 1, rest);
    return lineFeed + 1 + used;
  }

  private keepPartialLine(bytes: Buffer): void {
    if (bytes.length > MAX_LINE_BYTES) throw malformed(bytes, 0, bytes.length);
    this.partialLine = Buffer.from(bytes);
  }

  private readValueHeader(chunk: Buffer, start: number, end: number): ValueHeader {
    const keyEnd = spaceWithin(chunk, start, end);
    const flagsEnd = keyEnd === end ? end : spaceWithin(chunk, keyEnd + 1, end);
    if (keyEnd === start || flagsEnd === end) throw malformed(chunk, start, end);
    const bytesEnd = spaceWithin(chunk, flagsEnd + 1, end);
    const flags = parseUnsigned(chunk, keyEnd + 1, flagsEnd);
    const bytes = parseUnsigned(chunk, flagsEnd + 1, bytesEnd);
    if (flags < 0 || flags > 0xffffffff || bytes < 0) throw malformed(chunk, start, end);
    if (bytes > MAX_ITEM_BYTES) {
      throw new CacheProtocolError(`Memcached announced a ${bytes}-byte value, more than any memcached can hold (1 GiB): the reply stream is out of step`);
    }
    let cas: bigint | undefined;
    if (bytesEnd < end) {
      const casText = chunk.toString('latin1', bytesEnd + 1, end);
      if (!/^\d{1,20}$/.test(casText)) throw malformed(chunk, start, end);
      cas = BigInt(casText);
    }
    return new ValueHeader(chunk, start, keyEnd, flags, bytes, cas);
  }

  /** Copies what `chunk` holds of a value split across chunks, from `offset`; returns where the value ends in `chunk`. */
  private continueValue(value: PendingValue, chunk: Buffer, offset: number): number {
    const end = offset + value.data.take(chunk, offset);
    if (!value.data.complete) {
      this.pendingValue = value;
      return end;
    }
    this.pendingValue = undefined;
    const { header } = value;
    checkValueEnd(header, value.data.bytes, header.bytes);
    this.sink.value(header, value.data.bytes.subarray(0, header.bytes), 0, header.bytes);
    return end;
  }
}
