import { SerializationError } from '../../errors';
import { encodeLong, encodeUtf8 } from './codecs';
import { encodeDateTimeState } from './datetime-state';
import { MAX_DEPTH, Op } from './opcodes';

/** Protocols `dumpPickle` writes. 4 reads on every Python Django 3.2 supports (3.6+); 5 needs 3.8+. */
export type PickleProtocol = 4 | 5;

const BATCH_SIZE = 1000;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

type PathPart = string | number;

function typeName(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name ? `${name} instance` : Object.prototype.toString.call(value).slice(8, -1);
}

/** "a Point instance", "an Array instance". */
function describeType(value: unknown): string {
  const name = typeName(value);
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * What Python's `==` (and so a dict or set) sees of a key, or `undefined` where Python keeps
 * values apart anyway (NaN). `true`, `1`, `1n` and `1.0` are one key in Python.
 */
function pythonKey(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean':
      return `int ${Number(value)}`;
    case 'bigint':
      return `int ${value}`;
    case 'number':
      if (Number.isNaN(value)) return undefined;
      return Number.isInteger(value) ? `int ${BigInt(value)}` : `float ${value}`;
    case 'string':
      return `str ${value}`;
    default:
      if (value instanceof Uint8Array) return `bytes ${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
      if (value instanceof Date) return `datetime ${value.getTime()}`;
      return undefined;
  }
}

function isHashable(value: unknown): boolean {
  return value === null || ['undefined', 'boolean', 'number', 'bigint', 'string'].includes(typeof value) || value instanceof Uint8Array || value instanceof Date;
}

class Pickler {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;
  private memoSize = 0;
  private readonly objectMemo = new Map<object, number>();
  private readonly stringMemo = new Map<string, number>();
  private readonly globalMemo = new Map<string, number>();
  private utcMemo: number | undefined;
  private readonly path: PathPart[] = [];

  private refuse(what: string): never {
    const where = this.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
    throw new SerializationError(`The pickle serializer cannot store ${what} at ${where ? `value${where}` : 'the top level'}`);
  }

  // ---- output ----

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private byte(...bytes: number[]): void {
    this.reserve(bytes.length);
    for (const byte of bytes) this.buffer[this.length++] = byte;
  }

  private bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private opWithLength(short: number, long: number, huge: number, length: number): void {
    if (length < 256) this.byte(short, length);
    else if (length <= 0xffff_ffff) {
      this.reserve(5);
      this.buffer[this.length] = long;
      this.buffer.writeUInt32LE(length, this.length + 1);
      this.length += 5;
    } else {
      this.reserve(9);
      this.buffer[this.length] = huge;
      this.buffer.writeBigUInt64LE(BigInt(length), this.length + 1);
      this.length += 9;
    }
  }

  private memoize(): number {
    this.byte(Op.MEMOIZE);
    return this.memoSize++;
  }

  private get(index: number): void {
    if (index < 256) this.byte(Op.BINGET, index);
    else {
      this.reserve(5);
      this.buffer[this.length] = Op.LONG_BINGET;
      this.buffer.writeUInt32LE(index, this.length + 1);
      this.length += 5;
    }
  }

  // ---- values ----

  private int(value: number): void {
    if (value >= 0 && value < 256) this.byte(Op.BININT1, value);
    else if (value >= 0 && value <= 0xffff) this.byte(Op.BININT2, value & 0xff, value >> 8);
    else if (value >= INT32_MIN && value <= INT32_MAX) {
      this.reserve(5);
      this.buffer[this.length] = Op.BININT;
      this.buffer.writeInt32LE(value, this.length + 1);
      this.length += 5;
    } else this.long(BigInt(value));
  }

  private long(value: bigint): void {
    if (value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX)) return this.int(Number(value));
    const bytes = encodeLong(value);
    if (bytes.length < 256) this.byte(Op.LONG1, bytes.length);
    else {
      this.reserve(5);
      this.buffer[this.length] = Op.LONG4;
      this.buffer.writeInt32LE(bytes.length, this.length + 1);
      this.length += 5;
    }
    this.bytes(bytes);
  }

  private float(value: number): void {
    this.reserve(9);
    this.buffer[this.length] = Op.BINFLOAT;
    this.buffer.writeDoubleBE(value, this.length + 1);
    this.length += 9;
  }

  /** A str, memoized by value so repeated keys (a list of dicts) are written once. */
  private string(value: string, memoizeByValue = true): void {
    const index = memoizeByValue ? this.stringMemo.get(value) : undefined;
    if (index !== undefined) return this.get(index);
    const bytes = encodeUtf8(value);
    this.opWithLength(Op.SHORT_BINUNICODE, Op.BINUNICODE, Op.BINUNICODE8, bytes.length);
    this.bytes(bytes);
    const memo = this.memoize();
    if (memoizeByValue) this.stringMemo.set(value, memo);
  }

  private binary(value: Uint8Array): void {
    this.opWithLength(Op.SHORT_BINBYTES, Op.BINBYTES, Op.BINBYTES8, value.length);
    this.bytes(value);
  }

  /** A class reference, as CPython's `save_global` writes it from protocol 4: module, name, STACK_GLOBAL. */
  private global(module: string, name: string): void {
    const qualified = `${module}.${name}`;
    const index = this.globalMemo.get(qualified);
    if (index !== undefined) return this.get(index);
    this.string(module);
    this.string(name, false);
    this.byte(Op.STACK_GLOBAL);
    this.globalMemo.set(qualified, this.memoize());
  }

  /** `datetime.datetime(state, datetime.timezone.utc)`, byte for byte as CPython pickles an aware UTC datetime. */
  private date(value: Date): void {
    const state = Number.isNaN(value.getTime()) ? undefined : encodeDateTimeState(value);
    if (!state) this.refuse(`the Date ${String(value)} (Python's datetime holds years 1 to 9999)`);
    this.global('datetime', 'datetime');
    this.binary(state);
    this.memoize();
    if (this.utcMemo === undefined) {
      this.global('datetime', 'timezone');
      this.global('datetime', 'timedelta');
      this.byte(Op.BININT1, 0, Op.BININT1, 0, Op.BININT1, 0, Op.TUPLE3);
      this.memoize();
      this.byte(Op.REDUCE);
      this.memoize();
      this.byte(Op.TUPLE1);
      this.memoize();
      this.byte(Op.REDUCE);
      this.utcMemo = this.memoize();
    } else this.get(this.utcMemo);
    this.byte(Op.TUPLE2);
    this.memoize();
    this.byte(Op.REDUCE);
    this.memoize();
  }

  private batches(items: unknown[], write: (batch: unknown[]) => void): void {
    for (let start = 0; start < items.length; start += BATCH_SIZE) write(items.slice(start, start + BATCH_SIZE));
  }

  private list(value: unknown[], depth: number): void {
    this.byte(Op.EMPTY_LIST);
    this.objectMemo.set(value, this.memoize());
    let index = 0;
    // Not `slice`-based batches of `value` itself: holes must read as undefined (None).
    const items = Array.from(value);
    this.batches(items, (batch) => {
      if (batch.length > 1) this.byte(Op.MARK);
      for (const item of batch) this.child(index++, item, depth);
      this.byte(batch.length > 1 ? Op.APPENDS : Op.APPEND);
    });
  }

  private dict(value: object, entries: Array<[unknown, unknown]>, depth: number): void {
    this.byte(Op.EMPTY_DICT);
    this.objectMemo.set(value, this.memoize());
    this.batches(entries, (batch) => {
      if (batch.length > 1) this.byte(Op.MARK);
      for (const [key, item] of batch as Array<[unknown, unknown]>) {
        const part = typeof key === 'string' ? key : String(key);
        this.child(part, key, depth, 'key');
        this.child(part, item, depth);
      }
      this.byte(batch.length > 1 ? Op.SETITEMS : Op.SETITEM);
    });
  }

  private set(value: Set<unknown>, depth: number): void {
    this.byte(Op.EMPTY_SET);
    this.objectMemo.set(value, this.memoize());
    let index = 0;
    this.batches([...value], (batch) => {
      this.byte(Op.MARK);
      for (const item of batch) this.child(index++, item, depth, 'member');
      this.byte(Op.ADDITEMS);
    });
  }

  /** Refuses keys or members Python could not hash, or that Python would merge (`1` and `true`). */
  private checkKeys(keys: Iterable<unknown>, role: string): void {
    const seen = new Map<string, unknown>();
    for (const key of keys) {
      if (!isHashable(key)) this.refuse(`${describeType(key)} as a ${role} (Python needs a hashable value)`);
      const identity = pythonKey(key);
      if (identity === undefined) continue;
      if (seen.has(identity)) this.refuse(`${role}s ${String(seen.get(identity))} and ${String(key)}, which are equal in Python`);
      seen.set(identity, key);
    }
  }

  private child(part: PathPart, value: unknown, depth: number, role?: string): void {
    this.path.push(role ? `${typeof part === 'number' ? `[${part}]` : part} (${role})` : part);
    this.value(value, depth + 1);
    this.path.pop();
  }

  value(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'undefined':
        return this.byte(Op.NONE);
      case 'boolean':
        return this.byte(value ? Op.NEWTRUE : Op.NEWFALSE);
      case 'number':
        return Number.isSafeInteger(value) && !Object.is(value, -0) ? this.int(value) : this.float(value);
      case 'bigint':
        return this.long(value);
      case 'string':
        return this.string(value);
      case 'object':
        break;
      default:
        this.refuse(describeType(value));
    }
    if (value === null) return this.byte(Op.NONE);
    const index = this.objectMemo.get(value);
    if (index !== undefined) return this.get(index);
    if (depth > MAX_DEPTH) this.refuse(`a value nested deeper than ${MAX_DEPTH} levels`);
    if (value instanceof Uint8Array) {
      this.binary(value);
      this.objectMemo.set(value, this.memoize());
    } else if (value instanceof Date) this.date(value);
    else if (Array.isArray(value)) this.list(value, depth);
    else if (value instanceof Map) {
      this.checkKeys(value.keys(), 'Map key');
      this.dict(value, [...value.entries()], depth);
    } else if (value instanceof Set) {
      this.checkKeys(value, 'Set member');
      this.set(value, depth);
    } else if (isPlainObject(value)) {
      if (Object.getOwnPropertySymbols(value).length) this.refuse('an object with symbol keys');
      this.dict(value, Object.entries(value), depth);
    } else this.refuse(describeType(value));
  }

  /** PROTO, then the body in one FRAME when it is at least 4 bytes (as CPython, which frames from 4 bytes). */
  finish(protocol: PickleProtocol): Buffer {
    this.byte(Op.STOP);
    const body = this.buffer.subarray(0, this.length);
    if (body.length < 4) return Buffer.concat([Buffer.from([Op.PROTO, protocol]), body]);
    const header = Buffer.alloc(11);
    header[0] = Op.PROTO;
    header[1] = protocol;
    header[2] = Op.FRAME;
    header.writeBigUInt64LE(BigInt(body.length), 3);
    return Buffer.concat([header, body]);
  }
}

/**
 * Writes `value` as a pickle Python reads with `pickle.loads`: null/undefined → None, boolean →
 * bool, safe integer → int, other numbers (fractions, -0, NaN, ±Infinity, unsafe integers) →
 * float, bigint → int, string → str, Buffer/Uint8Array → bytes, array → list, plain object and
 * Map → dict, Set → set, Date → aware UTC datetime. Shared and cyclic references are kept (memo).
 * Anything else throws `SerializationError` naming its type and where it is.
 *
 * Protocol 4 by default: Django 3.2 pickles with `pickle.HIGHEST_PROTOCOL`, which is 4 on
 * Python 3.6 and 3.7 and 5 from 3.8, and every Python it runs on reads 4. Nothing written here
 * needs a protocol 5 opcode; 5 only changes the header.
 */
export function dumpPickle(value: unknown, protocol: PickleProtocol = 4): Buffer {
  if (protocol !== 4 && protocol !== 5) throw new RangeError(`dumpPickle writes protocol 4 or 5, not ${String(protocol)}`);
  const pickler = new Pickler();
  try {
    pickler.value(value, 0);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    // A getter that throws, a stack overflow in a cycle-free but deep getter chain, …
    throw new SerializationError(`The pickle serializer cannot store this value: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  return pickler.finish(protocol);
}
