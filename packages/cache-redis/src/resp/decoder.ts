import { CacheProtocolError } from '@cachette/cache-core';
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
  | Map<RespValue, RespValue>;

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

const CR = 13;
const MINUS = 45;
const QUESTION = 63;
const EMPTY = Buffer.alloc(0);

/** Returned by the element readers when the buffer ends before the element does. */
const INCOMPLETE = Symbol('incomplete');
/** Returned when an element opened an aggregate (its items follow). */
const OPENED = Symbol('opened');
/** `.` (end of a streamed aggregate) or `;0` (end of a streamed string). */
const STREAM_END = Symbol('stream end');
type Step = RespValue | typeof INCOMPLETE | typeof OPENED | typeof STREAM_END;

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
  /** Items still expected; -1 for streamed aggregates (ended by `.`). */
  remaining: number;
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

function aggregateKind(type: number): FrameKind | undefined {
  switch (type) {
    case 42 /* * */:
      return FrameKind.Array;
    case 37 /* % */:
      return FrameKind.Map;
    case 126 /* ~ */:
      return FrameKind.Set;
    case 62 /* > */:
      return FrameKind.Push;
    case 124 /* | */:
      return FrameKind.Attribute;
    default:
      return undefined;
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
  /** Bytes of an unfinished element, gathered until `needed` of them are there (one concat, not one per chunk). */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private needed = 0;
  private readonly stack: Frame[] = [];
  private readonly bulkStrings: boolean;

  constructor(
    private readonly callbacks: RespDecoderCallbacks,
    options: RespDecoderOptions = {},
  ) {
    this.bulkStrings = options.bulkStrings ?? false;
  }

  /** Throws `CacheProtocolError` on bytes that are not RESP; the stream cannot be resynchronised after that. */
  write(chunk: Buffer): void {
    if (this.pendingLength > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
      if (this.pendingLength < this.needed) return;
      chunk = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
    }
    this.buffer = chunk;
    this.offset = 0;
    this.parse();
  }

  /** Forgets any partial reply (after a reconnect). */
  reset(): void {
    this.buffer = EMPTY;
    this.offset = 0;
    this.pending = [];
    this.pendingLength = 0;
    this.stack.length = 0;
  }

  private parse(): void {
    const buffer = this.buffer;
    while (this.offset < buffer.length) {
      const start = this.offset;
      this.needed = 0;
      const step = this.readElement();
      if (step === INCOMPLETE) {
        this.keepRemainder(start);
        return;
      }
      if (step !== OPENED) this.deliver(step);
    }
    this.buffer = EMPTY;
  }

  private keepRemainder(start: number): void {
    const rest = this.buffer.subarray(start);
    this.pending = [rest];
    this.pendingLength = rest.length;
    // `needed` was set by the reader when it knew the element's size; otherwise any new byte may finish it.
    if (this.needed <= rest.length) this.needed = rest.length + 1;
    this.buffer = EMPTY;
    this.offset = 0;
  }

  /** Hands a complete value to its enclosing aggregate, closing every aggregate it completes. */
  private deliver(step: RespValue | typeof STREAM_END): void {
    let value = step;
    for (;;) {
      const frame = this.stack[this.stack.length - 1];
      if (frame === undefined) {
        if (value === STREAM_END) throw new CacheProtocolError('RESP stream end marker outside a streamed aggregate');
        this.callbacks.onReply(value);
        return;
      }
      if (value === STREAM_END) {
        if (frame.remaining !== -1) throw new CacheProtocolError('RESP stream end marker inside a sized aggregate');
      } else {
        frame.items.push(value);
        if (frame.remaining === -1 || --frame.remaining > 0) return;
      }
      this.stack.pop();
      const finished = finishFrame(frame, this.bulkStrings);
      if (frame.kind === FrameKind.Attribute) {
        this.callbacks.onAttribute?.(finished as Map<RespValue, RespValue>);
        return;
      }
      if (frame.kind === FrameKind.Push && this.stack.length === 0) {
        this.callbacks.onPush?.(finished as RespValue[]);
        return;
      }
      value = finished;
    }
  }

  /** The offset of the `\r` ending the line that starts at `from`, or -1 when the line is not complete. */
  private lineEnd(from: number): number {
    const end = this.buffer.indexOf(CR, from);
    return end === -1 || end + 1 >= this.buffer.length ? -1 : end;
  }

  /** Reads a signed decimal from `from` to `end`; `?` (streamed) reads as -2. */
  private readInteger(from: number, end: number): number {
    const buffer = this.buffer;
    if (buffer[from] === QUESTION) return -2;
    const negative = buffer[from] === MINUS;
    let value = 0;
    for (let i = negative ? from + 1 : from; i < end; i++) {
      const digit = buffer[i]! - 48;
      if (digit < 0 || digit > 9) throw new CacheProtocolError(`RESP: malformed number '${buffer.toString('latin1', from, end)}'`);
      value = value * 10 + digit;
    }
    return negative ? -value : value;
  }

  private readElement(): Step {
    const buffer = this.buffer;
    const start = this.offset;
    const end = this.lineEnd(start + 1);
    if (end === -1) return INCOMPLETE;
    const type = buffer[start]!;
    switch (type) {
      case 43 /* + */:
        this.offset = end + 2;
        return buffer.toString('utf8', start + 1, end);
      case 45 /* - */:
        this.offset = end + 2;
        return new RedisReplyError(buffer.toString('utf8', start + 1, end));
      case 58 /* : */:
        this.offset = end + 2;
        return this.readIntegerReply(start + 1, end);
      case 36 /* $ */:
      case 33 /* ! */:
      case 61 /* = */:
        return this.readBlob(type, start, end);
      case 59 /* ; */:
        return this.readStreamedChunk(start, end);
      case 95 /* _ */:
        this.offset = end + 2;
        return null;
      case 35 /* # */:
        this.offset = end + 2;
        return buffer[start + 1] === 116 /* t */;
      case 44 /* , */:
        this.offset = end + 2;
        return parseDouble(buffer.toString('latin1', start + 1, end));
      case 40 /* ( */:
        this.offset = end + 2;
        return BigInt(buffer.toString('latin1', start + 1, end));
      case 46 /* . */:
        this.offset = end + 2;
        return STREAM_END;
      default:
        return this.openAggregate(type, start, end);
    }
  }

  private readIntegerReply(from: number, end: number): number | bigint {
    // Up to 15 digits cannot exceed the safe integer range; longer ones may need a bigint.
    if (end - from <= 15) return this.readInteger(from, end);
    const text = this.buffer.toString('latin1', from, end);
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : BigInt(text);
  }

  /** `$` bulk string, `!` bulk error, `=` verbatim string: a length line, then that many bytes. */
  private readBlob(type: number, start: number, end: number): Step {
    const length = this.readInteger(start + 1, end);
    if (length === -1) {
      this.offset = end + 2;
      return null;
    }
    if (length === -2) {
      this.offset = end + 2;
      this.stack.push({ kind: FrameKind.StreamedString, remaining: -1, items: [] });
      return OPENED;
    }
    const dataStart = end + 2;
    const dataEnd = dataStart + length;
    if (dataEnd + 2 > this.buffer.length) {
      this.needed = dataEnd + 2 - start;
      return INCOMPLETE;
    }
    this.offset = dataEnd + 2;
    if (type === 33 /* ! */) return new RedisReplyError(this.buffer.toString('utf8', dataStart, dataEnd));
    // A verbatim string starts with its three-letter format and a colon (`txt:`), which is not data.
    const from = type === 61 /* = */ ? dataStart + 4 : dataStart;
    // subarray, not a copy: socket chunks are never reused by Node, so sharing them is safe.
    return this.bulkStrings ? this.buffer.toString('utf8', from, dataEnd) : this.buffer.subarray(from, dataEnd);
  }

  /** `;<length>` chunk of a streamed string; `;0` ends it. */
  private readStreamedChunk(start: number, end: number): Step {
    const length = this.readInteger(start + 1, end);
    if (length === 0) {
      this.offset = end + 2;
      return STREAM_END;
    }
    const dataEnd = end + 2 + length;
    if (dataEnd + 2 > this.buffer.length) {
      this.needed = dataEnd + 2 - start;
      return INCOMPLETE;
    }
    this.offset = dataEnd + 2;
    return this.buffer.subarray(end + 2, dataEnd);
  }

  private openAggregate(type: number, start: number, end: number): Step {
    const kind = aggregateKind(type);
    if (kind === undefined) {
      throw new CacheProtocolError(`RESP: unexpected type byte 0x${type.toString(16)} ('${String.fromCharCode(type)}')`);
    }
    const count = this.readInteger(start + 1, end);
    this.offset = end + 2;
    if (count === -1) return null;
    if (count === 0) {
      if (kind === FrameKind.Attribute) this.callbacks.onAttribute?.(new Map());
      else if (kind === FrameKind.Push && this.stack.length === 0) this.callbacks.onPush?.([]);
      else return finishFrame({ kind, remaining: 0, items: [] }, this.bulkStrings);
      return OPENED;
    }
    const isPairs = kind === FrameKind.Map || kind === FrameKind.Attribute;
    this.stack.push({ kind, remaining: count === -2 ? -1 : isPairs ? count * 2 : count, items: [] });
    return OPENED;
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
