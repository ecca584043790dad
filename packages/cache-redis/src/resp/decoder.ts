import { CacheProtocolError } from '@cachette/cache-core';
import { BulkStrings } from './bulk-strings';
import { RedisReplyError } from './reply-error';

/** A decoded reply. Maps keep RESP3's arbitrary key types; sets are arrays (members may be Buffers). */
export type RespValue =
  | string
  | Buffer
  | number
  | bigint
  | boolean
  | null
  | RedisReplyError
  | RespValue[]
  | Map<RespValue, RespValue>
  | BulkStrings;

export interface RespDecoderCallbacks {
  /** A complete in-band reply (error replies included, as `RedisReplyError` values). */
  onReply(value: RespValue): void;
  /** An out-of-band RESP3 push (`>`): pub/sub messages, invalidations. Dropped when absent. */
  onPush?(value: RespValue[]): void;
  /** RESP3 attributes (`|`) that preceded a reply. Dropped when absent. */
  onAttribute?(attributes: Map<RespValue, RespValue>): void;
}

export interface RespDecoderOptions {
  /** Bulk and verbatim strings as UTF-8 text instead of Buffers. Default `false`. */
  bulkStrings?: boolean;
}

/**
 * The longest bulk string read: Redis's own default limit (`proto-max-bulk-len`, 512 MiB). A longer
 * declared length, or a line longer than that, is a stream out of step (or a hostile peer): it is
 * refused rather than waited for.
 */
const MAX_BULK_LENGTH = 512 * 1024 * 1024;
/** The most items a JavaScript array holds. */
const MAX_AGGREGATE_ITEMS = 2 ** 32 - 1;
/** The fewest bytes an item takes on the wire (`_\r\n`). */
const MIN_ITEM_BYTES = 3;

// Byte values are written as literals in the hot paths below: module-level constants cost a
// binding check on every read. 13 is `\r`, 45 `-`, 63 `?`.
const EMPTY = Buffer.alloc(0);

/** Returned when an element opened an aggregate (its items follow). */
const OPENED = Symbol('opened');
/** `.` (end of a streamed aggregate) or `;0` (end of a streamed string). */
const STREAM_END = Symbol('stream end');
/** What an element reader returns: a value, a marker, or `undefined` when the buffer ends before the element does. */
type Step = RespValue | undefined | typeof OPENED | typeof STREAM_END;

const enum FrameKind {
  Array,
  Map,
  Set,
  Push,
  Attribute,
  StreamedString,
}

/** An aggregate being filled; kept across chunks so a large array never restarts from its first item. */
interface Frame {
  kind: FrameKind;
  /** Items expected in all; -1 for streamed aggregates (ended by `.`). */
  size: number;
  /** Items received so far. */
  filled: number;
  /** Allocated at its final size when all its items may be in the buffer already, so filling it never reallocates. */
  items: RespValue[];
}

function finishFrame(frame: Frame, bulkStrings: boolean): RespValue {
  switch (frame.kind) {
    case FrameKind.Map:
    case FrameKind.Attribute: {
      const map = new Map<RespValue, RespValue>();
      for (let i = 0; i < frame.items.length; i += 2) map.set(frame.items[i]!, frame.items[i + 1]!);
      return map;
    }
    case FrameKind.StreamedString: {
      const joined = Buffer.concat(frame.items as Buffer[]);
      return bulkStrings ? joined.toString('utf8') : joined;
    }
    default:
      return frame.items;
  }
}

/** The frame kind of an aggregate type byte (`*`, `%`, `~`, `>` or `|`; readElement routes only these here). */
function aggregateKind(type: number): FrameKind {
  switch (type) {
    case 37 /* % */:
      return FrameKind.Map;
    case 126 /* ~ */:
      return FrameKind.Set;
    case 62 /* > */:
      return FrameKind.Push;
    case 124 /* | */:
      return FrameKind.Attribute;
    default:
      return FrameKind.Array;
  }
}

/**
 * A push parser for RESP2 and RESP3: feed it socket chunks with `write(chunk)`, it calls back once
 * per complete reply. Lengths are read, never scanned for, so binary values holding `\r\n` are safe;
 * a reply split at any byte boundary decodes the same as a whole one.
 */
export class RespDecoder {
  private buffer: Buffer = EMPTY;
  private offset = 0;
  /** Bytes of one unfinished element, gathered until it can be finished (one concat, not one per chunk). */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private needed = 0;
  private readonly stack: Frame[] = [];
  private readonly bulkStrings: boolean;
  /** Where `readNumber`'s line ends, in a field so the hot path allocates nothing. */
  private numberEnd = -1;
  /**
   * Set by the caller before the reply of a command that reads its values in place (`MGET` for
   * `RedisCache.getMany`): the next reply, when it is an array of bulk strings lying whole in
   * one buffer, comes as `BulkStrings` instead of an array of Buffers. Otherwise (split across
   * socket reads, other items, another type) it comes as usual.
   */
  expectBulkStrings = false;

  constructor(
    private readonly callbacks: RespDecoderCallbacks,
    options: RespDecoderOptions = {},
  ) {
    this.bulkStrings = options.bulkStrings ?? false;
  }

  /** Throws `CacheProtocolError` on bytes that are not RESP; the stream cannot be resynchronised after that. */
  write(chunk: Buffer): void {
    let start = 0;
    // An element split across chunks is finished first, copying only its own bytes, never the whole chunk.
    while (this.pendingLength > 0) {
      const take = this.bytesToFinishPending(chunk, start);
      if (take === -1) {
        this.pending.push(start === 0 ? chunk : chunk.subarray(start));
        this.pendingLength += chunk.length - start;
        // A bulk string stops at its declared length (64: room for its length line); only a line can grow past that.
        if (this.pendingLength > MAX_BULK_LENGTH + 64) throw new CacheProtocolError(`RESP: a line longer than ${MAX_BULK_LENGTH} bytes`);
        return;
      }
      this.pending.push(chunk.subarray(start, start + take));
      const joined = Buffer.concat(this.pending, this.pendingLength + take);
      this.pending = [];
      this.pendingLength = 0;
      // `needed` describes only the pending element; readers set it again when they stop short.
      this.needed = 0;
      start += take;
      this.parse(joined, 0);
    }
    if (start < chunk.length) this.parse(chunk, start);
  }

  /** Bytes of `chunk` from `start` that finish the pending element, or -1 when it needs more than that. */
  private bytesToFinishPending(chunk: Buffer, start: number): number {
    if (this.needed > this.pendingLength) {
      const take = this.needed - this.pendingLength;
      return take <= chunk.length - start ? take : -1;
    }
    // The pending element is a line of unknown length: it ends at the next line feed.
    const lineFeed = chunk.indexOf(10, start);
    return lineFeed === -1 ? -1 : lineFeed - start + 1;
  }

  /** Forgets any partial reply (after a reconnect). */
  reset(): void {
    this.buffer = EMPTY;
    this.offset = 0;
    this.pending = [];
    this.pendingLength = 0;
    this.needed = 0;
    this.stack.length = 0;
    this.expectBulkStrings = false;
  }

  private parse(buffer: Buffer, offset: number): void {
    this.buffer = buffer;
    this.offset = offset;
    while (this.offset < buffer.length) {
      const start = this.offset;
      // A top-level array the caller reads in place is tried whole first.
      const inPlace = this.expectBulkStrings && this.stack.length === 0 && buffer[start] === 42 /* * */;
      const step = (inPlace ? this.readBulkStrings(start) : undefined) ?? this.readElement();
      if (step === undefined) {
        this.keepRemainder(start);
        return;
      }
      if (typeof step === 'symbol') {
        if (step === STREAM_END) this.deliver(step);
        continue;
      }
      // Most replies are not nested: hand them over without the aggregate bookkeeping.
      if (this.stack.length === 0) this.callbacks.onReply(step);
      else this.deliver(step);
    }
    this.buffer = EMPTY;
  }

  private keepRemainder(start: number): void {
    const rest = this.buffer.subarray(start);
    this.pending = [rest];
    this.pendingLength = rest.length;
    // `needed` is the element's whole size when the reader knew it; 0 means "until the line ends".
    if (this.needed <= rest.length) this.needed = 0;
    this.buffer = EMPTY;
    this.offset = 0;
  }

  /** Hands a complete value to its enclosing aggregate, closing every aggregate it completes. */
  private deliver(step: RespValue | typeof STREAM_END): void {
    let value = step;
    const stack = this.stack;
    for (;;) {
      // Checked by length: reading index -1 of an empty array is a slow named-property lookup.
      if (stack.length === 0) {
        if (value === STREAM_END) throw new CacheProtocolError('RESP stream end marker outside a streamed aggregate');
        this.callbacks.onReply(value);
        return;
      }
      const frame = stack[stack.length - 1]!;
      if (value === STREAM_END) {
        if (frame.size !== -1) throw new CacheProtocolError('RESP stream end marker inside a sized aggregate');
      } else if (frame.size === -1) {
        if (frame.kind === FrameKind.StreamedString && !Buffer.isBuffer(value)) throw new CacheProtocolError('RESP streamed string holding something other than chunks');
        frame.items.push(value);
        return;
      } else {
        frame.items[frame.filled++] = value;
        if (frame.filled < frame.size) return;
      }
      stack.pop();
      const finished = finishFrame(frame, this.bulkStrings);
      if (frame.kind === FrameKind.Attribute) {
        this.callbacks.onAttribute?.(finished as Map<RespValue, RespValue>);
        return;
      }
      if (frame.kind === FrameKind.Push && stack.length === 0) {
        this.callbacks.onPush?.(finished as RespValue[]);
        return;
      }
      value = finished;
    }
  }

  /** The offset of the `\r` ending the line that starts at `from`, or -1 when the line is not complete. */
  private lineEnd(from: number): number {
    // A plain loop: lines are short, and a native indexOf call costs more than scanning them.
    const buffer = this.buffer;
    const last = buffer.length - 1;
    for (let i = from; i < last; i++) if (buffer[i] === 13) return i;
    return -1;
  }

  /**
   * Reads the signed decimal line starting at `from` in one pass, leaving the offset of its `\r`
   * in `numberEnd` (-1 when the line is not complete).
   * `?` (a streamed length) reads as -2.
   */
  private readNumber(from: number): number {
    const buffer = this.buffer;
    const last = buffer.length - 1;
    let i = from;
    if (buffer[i] === 63) {
      this.numberEnd = i + 1 < last ? i + 1 : -1;
      return -2;
    }
    const negative = buffer[i] === 45;
    if (negative) i++;
    let value = 0;
    for (; i < last; i++) {
      const byte = buffer[i]!;
      if (byte === 13) {
        this.numberEnd = i;
        return negative ? -value : value;
      }
      const digit = byte - 48;
      if (digit >>> 0 > 9) throw new CacheProtocolError(`RESP: malformed number '${buffer.toString('latin1', from, Math.min(i + 1, buffer.length))}'`);
      value = value * 10 + digit;
    }
    this.numberEnd = -1;
    return 0;
  }

  private readElement(): Step {
    const buffer = this.buffer;
    const start = this.offset;
    const type = buffer[start]!;
    switch (type) {
      case 36 /* $ */:
      case 33 /* ! */:
      case 61 /* = */:
        return this.readBlob(type, start);
      case 58 /* : */:
        return this.readIntegerReply(start);
      case 59 /* ; */:
        return this.readStreamedChunk(start);
      case 42 /* * */:
      case 37 /* % */:
      case 126 /* ~ */:
      case 62 /* > */:
      case 124 /* | */:
        return this.openAggregate(type, start);
      default:
        return this.readLine(type, start);
    }
  }

  /** The types whose whole value is one line of text. */
  private readLine(type: number, start: number): Step {
    const buffer = this.buffer;
    const end = this.lineEnd(start + 1);
    if (end === -1) return undefined;
    this.offset = end + 2;
    switch (type) {
      case 43 /* + */:
        // `+OK` answers most writes: the same string every time, without decoding it.
        return end === start + 3 && buffer[start + 1] === 79 && buffer[start + 2] === 75 ? 'OK' : buffer.toString('utf8', start + 1, end);
      case 45 /* - */:
        return replyError(buffer.toString('utf8', start + 1, end));
      case 95 /* _ */:
        return null;
      case 35 /* # */:
        return buffer[start + 1] === 116 /* t */;
      case 44 /* , */:
        return parseDouble(buffer.toString('latin1', start + 1, end));
      case 40 /* ( */:
        return parseBigNumber(buffer.toString('latin1', start + 1, end));
      case 46 /* . */:
        return STREAM_END;
      default:
        throw new CacheProtocolError(`RESP: unexpected type byte 0x${type.toString(16)} ('${String.fromCharCode(type)}')`);
    }
  }

  private readIntegerReply(start: number): Step {
    const value = this.readNumber(start + 1);
    const end = this.numberEnd;
    if (end === -1) return undefined;
    this.offset = end + 2;
    // Up to 15 digits (and a sign) cannot exceed the safe integer range; longer ones may need a bigint.
    if (end - start <= 16) return value;
    const text = this.buffer.toString('latin1', start + 1, end);
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : BigInt(text);
  }

  /** `$` bulk string, `!` bulk error, `=` verbatim string: a length line, then that many bytes. */
  private readBlob(type: number, start: number): Step {
    const length = this.readNumber(start + 1);
    const end = this.numberEnd;
    if (end === -1) return undefined;
    // -1 is a nil and -2 a streamed string (`?`); other lengths would move the reader backwards.
    if (length < -2 || length > MAX_BULK_LENGTH) throw badLength(length);
    if (length === -1) {
      this.offset = end + 2;
      return null;
    }
    if (length === -2) {
      this.offset = end + 2;
      this.stack.push({ kind: FrameKind.StreamedString, size: -1, filled: 0, items: [] });
      return OPENED;
    }
    const dataStart = end + 2;
    const dataEnd = dataStart + length;
    if (dataEnd + 2 > this.buffer.length) {
      this.needed = dataEnd + 2 - start;
      return undefined;
    }
    this.offset = dataEnd + 2;
    if (type === 33 /* ! */) return replyError(this.buffer.toString('utf8', dataStart, dataEnd));
    // A verbatim string starts with its three-letter format and a colon (`txt:`), which is not data.
    const from = type === 61 /* = */ ? dataStart + 4 : dataStart;
    // subarray, not a copy: socket chunks are never reused by Node, so sharing them is safe.
    return this.bulkStrings ? this.buffer.toString('utf8', from, dataEnd) : this.buffer.subarray(from, dataEnd);
  }

  /**
   * `*<count>` followed by `count` bulk strings or nils, all within this buffer, read as
   * `BulkStrings` in one pass; `undefined` (having moved nothing) for anything else, which the
   * general reader then takes.
   */
  private readBulkStrings(start: number): BulkStrings | undefined {
    const buffer = this.buffer;
    const count = this.readNumber(start + 1);
    const countEnd = this.numberEnd;
    // Every item takes at least 5 bytes (`$-1\r\n`): a count the buffer cannot hold is not whole here.
    if (countEnd === -1 || count < 0 || count * 5 > buffer.length - countEnd) return undefined;
    let position = countEnd + 2;
    const bounds = new Int32Array(count * 2);
    for (let index = 0; index < count; index++) {
      if (buffer[position] !== 36 /* $ */) return undefined;
      const length = this.readNumber(position + 1);
      const lineEnd = this.numberEnd;
      if (lineEnd === -1 || length < -1) return undefined;
      if (length === -1) {
        bounds[index * 2] = bounds[index * 2 + 1] = -1;
        position = lineEnd + 2;
        continue;
      }
      const dataEnd = lineEnd + 2 + length;
      if (dataEnd + 2 > buffer.length) return undefined;
      bounds[index * 2] = lineEnd + 2;
      bounds[index * 2 + 1] = dataEnd;
      position = dataEnd + 2;
    }
    this.offset = position;
    return new BulkStrings(buffer, bounds);
  }

  /** `;<length>` chunk of a streamed string; `;0` ends it. */
  private readStreamedChunk(start: number): Step {
    const length = this.readNumber(start + 1);
    const end = this.numberEnd;
    if (end === -1) return undefined;
    if (length < 0 || length > MAX_BULK_LENGTH) throw badLength(length);
    if (length === 0) {
      this.offset = end + 2;
      return STREAM_END;
    }
    const dataEnd = end + 2 + length;
    if (dataEnd + 2 > this.buffer.length) {
      this.needed = dataEnd + 2 - start;
      return undefined;
    }
    this.offset = dataEnd + 2;
    return this.buffer.subarray(end + 2, dataEnd);
  }

  private openAggregate(type: number, start: number): Step {
    const kind = aggregateKind(type);
    const count = this.readNumber(start + 1);
    const end = this.numberEnd;
    if (end === -1) return undefined;
    this.offset = end + 2;
    if (count === -1) return null;
    if (count === 0) {
      if (kind === FrameKind.Attribute) this.callbacks.onAttribute?.(new Map());
      else if (kind === FrameKind.Push && this.stack.length === 0) this.callbacks.onPush?.([]);
      else return finishFrame({ kind, size: 0, filled: 0, items: [] }, this.bulkStrings);
      return OPENED;
    }
    const isPairs = kind === FrameKind.Map || kind === FrameKind.Attribute;
    const size = count === -2 ? -1 : isPairs ? count * 2 : count;
    if (count < -2 || size > MAX_AGGREGATE_ITEMS) throw new CacheProtocolError(`RESP: an aggregate of ${count} items`);
    // Allocated at its size only when the items may all be here already: a count is no reason to allocate.
    const preallocate = size !== -1 && size * MIN_ITEM_BYTES <= this.buffer.length - this.offset;
    this.stack.push({ kind, size, filled: 0, items: preallocate ? new Array<RespValue>(size) : [] });
    return OPENED;
  }
}

/** Error replies carry no stack: it would only show the decoder, and capturing it is costly. */
function replyError(message: string): RedisReplyError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RedisReplyError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function badLength(length: number): CacheProtocolError {
  return new CacheProtocolError(`RESP: a string of ${length} bytes (the longest read is ${MAX_BULK_LENGTH})`);
}

function parseBigNumber(text: string): bigint {
  try {
    return BigInt(text);
  } catch {
    throw new CacheProtocolError(`RESP: malformed big number '${text.slice(0, 80)}'`);
  }
}

function parseDouble(text: string): number {
  switch (text) {
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
      return NaN;
    default:
      return Number(text);
  }
}
