import { CacheProtocolError } from '@cachette/cache-core';
import { DeclaredLengthBuffer, MAX_ITEM_BYTES } from '../declared-length-buffer';

/** Where decoded text-protocol replies go, in the order they arrive. */
export interface TextReplySink {
  /** One `VALUE <key> <flags> <bytes> [<cas>]` item with its data (a Buffer of its own). */
  value(key: string, flags: number, data: Buffer, cas: bigint | undefined): void;
  /** Any other line, without its `\r\n`: `STORED`, `END`, `42`, `STAT …`, `SERVER_ERROR …`. */
  line(line: string): void;
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const VALUE_PREFIX = Buffer.from('VALUE ', 'latin1');
/** Longer than any reply line memcached sends (a VALUE line with a 250-byte key is under 330). */
const MAX_LINE_BYTES = 8192;

interface ValueHeader {
  key: string;
  flags: number;
  cas: bigint | undefined;
  /** The data and its trailing `\r\n`. */
  data: DeclaredLengthBuffer;
}

function startsWithValue(chunk: Buffer, offset: number): boolean {
  return chunk.length - offset > VALUE_PREFIX.length && chunk.compare(VALUE_PREFIX, 0, VALUE_PREFIX.length, offset, offset + VALUE_PREFIX.length) === 0;
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
  private pendingValue: ValueHeader | undefined;

  constructor(private readonly sink: TextReplySink) {}

  write(chunk: Buffer): void {
    let offset = 0;
    if (this.pendingValue) {
      offset = this.fillValue(this.pendingValue, chunk, 0);
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
    return this.fillValue(this.readValueHeader(buffer, start + VALUE_PREFIX.length, lineEnd), chunk, next);
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
    const keyEnd = chunk.indexOf(SPACE, start);
    const flagsEnd = keyEnd === -1 ? -1 : chunk.indexOf(SPACE, keyEnd + 1);
    if (keyEnd <= start || keyEnd >= end || flagsEnd === -1 || flagsEnd >= end) throw malformed(chunk, start, end);
    let bytesEnd = chunk.indexOf(SPACE, flagsEnd + 1);
    if (bytesEnd === -1 || bytesEnd > end) bytesEnd = end;
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
    return { key: chunk.toString('utf8', start, keyEnd), flags, cas, data: new DeclaredLengthBuffer(bytes + 2) };
  }

  /** Copies what `chunk` holds of the value from `offset`; returns where the value ends in `chunk`. */
  private fillValue(value: ValueHeader, chunk: Buffer, offset: number): number {
    const end = offset + value.data.take(chunk, offset);
    if (!value.data.complete) {
      this.pendingValue = value;
      return end;
    }
    this.pendingValue = undefined;
    const data = value.data.bytes;
    const size = data.length - 2;
    if (data[size] !== CR || data[size + 1] !== LF) {
      throw new CacheProtocolError(`Memcached value for key '${value.key}' is not followed by \\r\\n: the reply stream is out of step`);
    }
    this.sink.value(value.key, value.flags, data.subarray(0, size), value.cas);
    return end;
  }
}
