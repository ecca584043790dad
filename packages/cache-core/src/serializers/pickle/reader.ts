import { SerializationError } from '../../errors';
import { decodeEscapes, decodeLong, decodeRawUnicodeEscape, decodeUtf8, toPythonInt } from './codecs';
import { civilTimeToDate, decodeCivilState, isValidCivilTime, type CivilTime } from './datetime-state';
import { HIGHEST_PROTOCOL, MAX_DEPTH, Op } from './opcodes';

/*
 * A pickle virtual machine for protocols 0–5 that builds data, never behaviour.
 *
 * Python → JS:
 *   None → null; bool → boolean; int → number when a safe integer, else bigint; float → number;
 *   str → string; bytes, bytearray → Buffer; list, tuple → array; dict, OrderedDict → a plain
 *   object when every key is a str (a `__proto__` key is an own property, never the prototype),
 *   else a Map; set, frozenset → Set; datetime → Date (naive read as UTC, aware converted to the
 *   instant, microseconds truncated to the millisecond); date → Date at UTC midnight;
 *   Decimal → its string. Shared references stay shared; recursive lists and dicts come back
 *   cyclic.
 *
 * Safety: GLOBAL and STACK_GLOBAL resolve only the names in `WHITELIST`, each mapped to code in
 * this file; there is no dynamic lookup, import or call of anything named by the input. Other
 * names, persistent ids, the extension registry, INST/OBJ, object state (BUILD) and out-of-band
 * buffers are refused with a `SerializationError` naming what the pickle asked for.
 *
 * Bounds: every length is checked against the remaining input before anything is allocated;
 * nesting is limited to MAX_DEPTH; copies made from memoized values (set(list), bytearray(bytes),
 * …) share a work budget proportional to the input, so a small pickle cannot make the reader
 * do unbounded work. Only `SerializationError` escapes `loadPickle`.
 */

/** A name a pickle may refer to, with what it becomes. */
type GlobalKind =
  | 'datetime' | 'date' | 'timedelta' | 'timezone' | 'utc' | 'decimal'
  | 'set' | 'frozenset' | 'bytearray' | 'bytes' | 'encode' | 'ordereddict';

const WHITELIST: ReadonlyMap<string, GlobalKind> = new Map<string, GlobalKind>([
  ['datetime.datetime', 'datetime'],
  ['datetime.date', 'date'],
  ['datetime.timedelta', 'timedelta'],
  ['datetime.timezone', 'timezone'],
  // Django 3.2's `timezone.utc` is pytz's: an aware datetime from Django pickles `pytz._UTC()`.
  ['pytz._UTC', 'utc'],
  ['decimal.Decimal', 'decimal'],
  ['builtins.set', 'set'],
  ['builtins.frozenset', 'frozenset'],
  ['builtins.bytearray', 'bytearray'],
  ['builtins.bytes', 'bytes'],
  ['_codecs.encode', 'encode'],
  ['collections.OrderedDict', 'ordereddict'],
]);

/** Where `cls.__new__(cls, *args)` builds the same value as `cls(*args)`, so NEWOBJ may use it. */
const NEWOBJ_KINDS: ReadonlySet<GlobalKind> = new Set<GlobalKind>(['datetime', 'date', 'timedelta', 'timezone', 'decimal', 'frozenset', 'bytes']);

class PyGlobal {
  constructor(readonly qualified: string, readonly kind: GlobalKind) {}
}

class PyTimedelta {
  constructor(readonly microseconds: number) {}
}

class PyTimezone {
  constructor(readonly offsetMicroseconds: number) {}
}

/** A dict while it is being built; converted to an object or a Map once the pickle has stopped. */
class PyDict {
  readonly keys: unknown[] = [];
  readonly values: unknown[] = [];
}

const MICROSECONDS_PER_DAY = 86_400_000_000;
const DECIMAL_TEXT = /^[+-]?((\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|inf(inity)?|s?nan\d*)$/i;
const FLOAT_TEXT = /^[+-]?((\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|inf(inity)?|nan)$/i;
const INT_TEXT = /^[+-]?\d+$/;
/** CPython 3.11's default limit on decimal digits in int(str). */
const MAX_INT_DIGITS = 4300;
const MAX_NAME_IN_MESSAGE = 120;

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > MAX_NAME_IN_MESSAGE ? `${clean.slice(0, MAX_NAME_IN_MESSAGE)}…` : clean;
}

function refused(what: string): SerializationError {
  return new SerializationError(`pickle refers to ${what}, which Cachette does not load`);
}

function isInternal(value: unknown): boolean {
  return value instanceof PyGlobal || value instanceof PyTimedelta || value instanceof PyTimezone;
}

class Unpickler {
  private pos = 0;
  private opStart = 0;
  private stack: unknown[] = [];
  private readonly metastack: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly tuples = new WeakSet<unknown[]>();
  private readonly unhashableTuples = new WeakSet<unknown[]>();
  /** Tuples holding a class, timedelta or timezone: fine as REDUCE arguments, never as data. */
  private readonly internalTuples = new WeakSet<unknown[]>();
  private readonly frozensets = new WeakSet<Set<unknown>>();
  private readonly bytearrays = new WeakSet<Buffer>();
  private readonly converted = new Map<object, unknown>();
  private work = 0;
  private readonly workBudget: number;

  constructor(private readonly data: Buffer) {
    this.workBudget = 1_048_576 + data.length * 8;
  }

  // ---- input ----

  private fail(message: string): never {
    throw new SerializationError(`Cannot read pickle: ${message} (opcode at byte ${this.opStart})`);
  }

  private spend(units: number): void {
    this.work += units;
    if (this.work > this.workBudget) this.fail('it asks for more work than its size allows');
  }

  private take(length: number, what: string): Buffer {
    const remaining = this.data.length - this.pos;
    if (length > remaining) this.fail(`${what} needs ${length} bytes but only ${remaining} remain (truncated?)`);
    const bytes = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }

  private u8(what: string): number {
    return this.take(1, what)[0]!;
  }

  private u16(what: string): number {
    return this.take(2, what).readUInt16LE(0);
  }

  private i32(what: string): number {
    return this.take(4, what).readInt32LE(0);
  }

  private u32(what: string): number {
    return this.take(4, what).readUInt32LE(0);
  }

  /** An 8-byte length, checked against the input before it becomes a number. */
  private length64(what: string): number {
    const length = this.take(8, what).readBigUInt64LE(0);
    const remaining = this.data.length - this.pos;
    if (length > BigInt(remaining)) this.fail(`${what} needs ${length} bytes but only ${remaining} remain (truncated?)`);
    return Number(length);
  }

  private sized(length: number, what: string): Buffer {
    if (length < 0) this.fail(`${what} has a negative length`);
    return this.take(length, what);
  }

  /** The bytes up to the next newline (protocol 0 arguments), without it. */
  private line(what: string): Buffer {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`${what} has no end of line (truncated?)`);
    const bytes = this.data.subarray(this.pos, end);
    this.pos = end + 1;
    return bytes;
  }

  private text(bytes: Buffer, what: string): string {
    const text = decodeUtf8(bytes);
    if (text === undefined) this.fail(`${what} is not valid UTF-8`);
    this.spend(text.length);
    return text;
  }

  private copy(bytes: Uint8Array): Buffer {
    this.spend(bytes.length);
    return Buffer.from(bytes);
  }

  private decimalInt(text: string, what: string): number | bigint {
    const trimmed = text.trim();
    if (!INT_TEXT.test(trimmed)) this.fail(`${what} is not an integer`);
    if (trimmed.length > MAX_INT_DIGITS + 1) this.fail(`${what} has more than ${MAX_INT_DIGITS} digits`);
    return toPythonInt(BigInt(trimmed));
  }

  private memoIndex(text: string): number {
    if (!/^\d{1,10}$/.test(text)) this.fail('memo index is not a number');
    return Number(text);
  }

  // ---- the stack ----

  private push(value: unknown): void {
    this.stack.push(value);
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const outer = this.metastack.pop();
    if (outer === undefined) this.fail('no MARK to pop to');
    const items = this.stack;
    this.stack = outer;
    return items;
  }

  // ---- Python semantics ----

  private isTuple(value: unknown): value is unknown[] {
    return Array.isArray(value) && this.tuples.has(value);
  }

  private isList(value: unknown): value is unknown[] {
    return Array.isArray(value) && !this.tuples.has(value);
  }

  private isHashable(value: unknown): boolean {
    if (value === null || typeof value !== 'object') return true;
    if (Array.isArray(value)) return this.tuples.has(value) && !this.unhashableTuples.has(value);
    if (value instanceof Set) return this.frozensets.has(value);
    if (Buffer.isBuffer(value)) return !this.bytearrays.has(value);
    return !(value instanceof PyDict);
  }

  private tuple(items: unknown[]): unknown[] {
    this.tuples.add(items);
    for (const item of items) {
      if (isInternal(item) || (Array.isArray(item) && this.internalTuples.has(item))) this.internalTuples.add(items);
      if (!this.isHashable(item)) this.unhashableTuples.add(items);
    }
    return items;
  }

  /** A value about to be stored in a container or returned: classes and helper objects are not data. */
  private asData(value: unknown): unknown {
    if (value instanceof PyGlobal) throw refused(`${value.qualified} itself rather than a value made from it`);
    if (value instanceof PyTimedelta) throw refused('a datetime.timedelta outside a datetime');
    if (value instanceof PyTimezone) throw refused('a datetime.timezone outside a datetime');
    if (Array.isArray(value) && this.internalTuples.has(value)) throw refused('a tuple holding a class, timedelta or timezone');
    return value;
  }

  private hashable(value: unknown): unknown {
    this.asData(value);
    if (!this.isHashable(value)) this.fail('a list, dict, set or bytearray is used as a dict key or set member (unhashable)');
    return value;
  }

  private dict(): PyDict {
    const target = this.top();
    if (!(target instanceof PyDict)) this.fail('SETITEM(S) on a value that is not a dict');
    return target;
  }

  private setItems(target: PyDict, items: unknown[]): PyDict {
    if (items.length % 2) this.fail('odd number of items for a dict');
    for (let i = 0; i < items.length; i += 2) {
      target.keys.push(this.hashable(items[i]));
      target.values.push(this.asData(items[i + 1]));
    }
    return target;
  }

  private list(): unknown[] {
    const target = this.top();
    if (!this.isList(target)) this.fail('APPEND(S) on a value that is not a list');
    return target;
  }

  private setOf(items: Iterable<unknown>, frozen: boolean): Set<unknown> {
    const set = new Set<unknown>();
    for (const item of items) {
      this.spend(1);
      set.add(this.hashable(item));
    }
    if (frozen) this.frozensets.add(set);
    return set;
  }

  private integer(value: unknown, what: string): number {
    if (typeof value === 'boolean') return Number(value);
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(`${what} must be an int`);
    return value;
  }

  private civilTime(args: unknown[], size: number, qualified: string): { time: CivilTime; rest: unknown[] } {
    const [first] = args;
    if (Buffer.isBuffer(first) || typeof first === 'string') {
      const state = typeof first === 'string' ? this.latin1Bytes(first) : first;
      const time = state?.length === size ? decodeCivilState(state) : undefined;
      if (!time) this.fail(`the state of a ${qualified} is invalid`);
      return { time, rest: args.slice(1) };
    }
    const fieldCount = size === 4 ? 3 : 7;
    const fields = args.slice(0, fieldCount);
    if (fields.length < 3 || !fields.every((field) => typeof field === 'number' || typeof field === 'boolean')) {
      this.fail(`${qualified} needs its state or its fields`);
    }
    const [year, month, day, hour = 0, minute = 0, second = 0, microsecond = 0] = fields.map((field) => this.integer(field, qualified));
    const time = { year: year!, month: month!, day: day!, hour, minute, second, microsecond };
    if (!isValidCivilTime(time)) this.fail(`${qualified} fields are out of range`);
    return { time, rest: args.slice(fields.length) };
  }

  private latin1Bytes(text: string): Buffer | undefined {
    this.spend(text.length);
    return /^[\0-\xff]*$/.test(text) ? Buffer.from(text, 'latin1') : undefined;
  }

  private call(callable: unknown, args: unknown, opcode: string): unknown {
    if (!(callable instanceof PyGlobal)) this.fail(`${opcode} on a value that is not a class or function`);
    if (!this.isTuple(args)) this.fail(`${opcode} arguments are not a tuple`);
    if (opcode !== 'REDUCE' && !NEWOBJ_KINDS.has(callable.kind)) throw refused(`${callable.qualified} through ${opcode}`);
    const { qualified } = callable;
    const arity = (max: number): void => {
      if (args.length > max) this.fail(`${qualified} takes at most ${max} arguments here, got ${args.length}`);
    };
    switch (callable.kind) {
      case 'datetime': {
        const { time, rest } = this.civilTime(args, 10, qualified);
        if (rest.length > 1) this.fail(`${qualified} got too many arguments`);
        const tz = rest[0] ?? null;
        if (tz !== null && !(tz instanceof PyTimezone)) this.fail('a datetime tzinfo must be a datetime.timezone');
        return civilTimeToDate(time, tz?.offsetMicroseconds ?? 0);
      }
      case 'date': {
        const { time, rest } = this.civilTime(args, 4, qualified);
        if (rest.length) this.fail(`${qualified} got too many arguments`);
        return civilTimeToDate(time, 0);
      }
      case 'timedelta': {
        arity(3);
        const [days = 0, seconds = 0, microseconds = 0] = args.map((field) => this.integer(field, qualified));
        return new PyTimedelta(days * MICROSECONDS_PER_DAY + seconds * 1_000_000 + microseconds);
      }
      case 'timezone': {
        arity(2);
        const [offset, name] = args;
        if (!(offset instanceof PyTimedelta) || (name !== undefined && typeof name !== 'string')) {
          this.fail(`${qualified} needs a timedelta and an optional name`);
        }
        if (Math.abs(offset.microseconds) >= MICROSECONDS_PER_DAY) this.fail('a timezone offset must be less than a day');
        return new PyTimezone(offset.microseconds);
      }
      case 'utc':
        arity(0);
        return new PyTimezone(0);
      case 'decimal': {
        arity(1);
        const [value = '0'] = args;
        if (typeof value === 'number' && Number.isInteger(value)) return String(value);
        if (typeof value === 'bigint') return String(value);
        if (typeof value !== 'string') this.fail(`${qualified} needs a str`);
        this.spend(value.length);
        const text = value.trim();
        if (!DECIMAL_TEXT.test(text)) this.fail(`${qualified} text is not a number`);
        return text;
      }
      case 'set':
      case 'frozenset': {
        arity(1);
        const [iterable = []] = args;
        if (!Array.isArray(iterable) && !(iterable instanceof Set)) this.fail(`${qualified} needs a list, tuple or set`);
        return this.setOf(iterable, callable.kind === 'frozenset');
      }
      case 'bytearray':
      case 'bytes': {
        arity(1);
        const [source = Buffer.alloc(0)] = args;
        if (!Buffer.isBuffer(source)) this.fail(`${qualified} needs bytes`);
        const bytes = this.copy(source);
        if (callable.kind === 'bytearray') this.bytearrays.add(bytes);
        return bytes;
      }
      case 'encode': {
        arity(2);
        const [text, encoding] = args;
        if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
          this.fail(`${qualified} is only read as encode(str, 'latin1'), as protocol 2 writes bytes`);
        }
        const bytes = this.latin1Bytes(text);
        if (!bytes) this.fail(`${qualified}: the text is not latin-1`);
        return bytes;
      }
      case 'ordereddict':
        arity(0);
        return new PyDict();
    }
  }

  private global(module: string, name: string): PyGlobal {
    const qualified = `${module === '__builtin__' ? 'builtins' : module}.${name}`;
    const kind = WHITELIST.get(qualified);
    if (!kind) throw refused(printable(qualified));
    return new PyGlobal(qualified, kind);
  }

  private globalName(bytes: Buffer, what: string): string {
    const text = decodeUtf8(bytes);
    if (text === undefined) this.fail(`${what} is not valid UTF-8`);
    return text;
  }

  // ---- after STOP ----

  /** Turns the VM's model into the documented JS values, keeping shared references shared. */
  private convert(value: unknown, depth: number): unknown {
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || value instanceof Date) return value;
    if (depth > MAX_DEPTH) this.fail(`the value is nested deeper than ${MAX_DEPTH} levels`);
    const done = this.converted.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      this.converted.set(value, value);
      for (let i = 0; i < value.length; i++) value[i] = this.convert(value[i], depth + 1);
      return value;
    }
    if (value instanceof Set) {
      this.converted.set(value, value);
      // Members are hashable, so converting them (tuples in place) never changes their identity.
      for (const item of value) this.convert(item, depth + 1);
      return value;
    }
    if (value instanceof PyDict) {
      const { keys, values } = value;
      if (keys.every((key) => typeof key === 'string')) {
        const object: Record<string, unknown> = {};
        this.converted.set(value, object);
        keys.forEach((key, i) => {
          const item = this.convert(values[i], depth + 1);
          // Assigning `__proto__` would set the prototype; define it as an own property instead.
          if (key === '__proto__') Object.defineProperty(object, key, { value: item, writable: true, enumerable: true, configurable: true });
          else object[key as string] = item;
        });
        return object;
      }
      const map = new Map<unknown, unknown>();
      this.converted.set(value, map);
      keys.forEach((key, i) => map.set(this.convert(key, depth + 1), this.convert(values[i], depth + 1)));
      return map;
    }
    return this.fail('internal value left in the result');
  }

  // ---- the machine ----

  load(): unknown {
    const { data } = this;
    for (;;) {
      this.opStart = this.pos;
      if (this.pos >= data.length) this.fail('the pickle ends before STOP (truncated?)');
      const op = data[this.pos++]!;
      switch (op) {
        case Op.PROTO: {
          const protocol = this.u8('PROTO');
          if (protocol > HIGHEST_PROTOCOL) this.fail(`unsupported pickle protocol ${protocol}`);
          break;
        }
        case Op.FRAME:
          // Frames only group opcodes for buffered reading; the input is all in memory.
          this.length64('FRAME');
          break;
        case Op.STOP:
          return this.convert(this.asData(this.pop()), 0);

        case Op.MARK:
          this.metastack.push(this.stack);
          this.stack = [];
          break;
        case Op.POP:
          if (this.stack.length) this.stack.pop();
          else this.popMark();
          break;
        case Op.POP_MARK:
          this.popMark();
          break;
        case Op.DUP:
          this.push(this.top());
          break;

        case Op.NONE:
          this.push(null);
          break;
        case Op.NEWTRUE:
          this.push(true);
          break;
        case Op.NEWFALSE:
          this.push(false);
          break;
        case Op.INT: {
          const text = this.line('INT').toString('latin1');
          this.push(text === '00' ? false : text === '01' ? true : this.decimalInt(text, 'INT'));
          break;
        }
        case Op.LONG:
          this.push(this.decimalInt(this.line('LONG').toString('latin1').replace(/L$/, ''), 'LONG'));
          break;
        case Op.BININT:
          this.push(this.i32('BININT'));
          break;
        case Op.BININT1:
          this.push(this.u8('BININT1'));
          break;
        case Op.BININT2:
          this.push(this.u16('BININT2'));
          break;
        case Op.LONG1:
          this.push(decodeLong(this.take(this.u8('LONG1'), 'LONG1')));
          break;
        case Op.LONG4:
          this.push(decodeLong(this.sized(this.i32('LONG4'), 'LONG4')));
          break;
        case Op.FLOAT: {
          const text = this.line('FLOAT').toString('latin1').trim();
          if (!FLOAT_TEXT.test(text)) this.fail('FLOAT is not a number');
          const lower = text.toLowerCase().replace(/^\+/, '');
          const sign = lower.startsWith('-') ? -1 : 1;
          this.push(lower.includes('nan') ? NaN : lower.includes('inf') ? sign * Infinity : Number(text));
          break;
        }
        case Op.BINFLOAT:
          this.push(this.take(8, 'BINFLOAT').readDoubleBE(0));
          break;

        case Op.STRING: {
          const raw = this.line('STRING').toString('latin1');
          const quote = raw[0];
          if (raw.length < 2 || (quote !== "'" && quote !== '"') || raw[raw.length - 1] !== quote) this.fail('STRING argument is not quoted');
          const bytes = decodeEscapes(raw.slice(1, -1));
          if (!bytes) this.fail('STRING has an invalid escape');
          this.push(bytes.toString('latin1'));
          break;
        }
        case Op.BINSTRING:
          this.push(this.sized(this.i32('BINSTRING'), 'BINSTRING').toString('latin1'));
          break;
        case Op.SHORT_BINSTRING:
          this.push(this.take(this.u8('SHORT_BINSTRING'), 'SHORT_BINSTRING').toString('latin1'));
          break;
        case Op.UNICODE: {
          const text = decodeRawUnicodeEscape(this.line('UNICODE'));
          if (text === undefined) this.fail('UNICODE has an invalid \\u escape');
          this.push(text);
          break;
        }
        case Op.SHORT_BINUNICODE:
          this.push(this.text(this.take(this.u8('SHORT_BINUNICODE'), 'SHORT_BINUNICODE'), 'SHORT_BINUNICODE'));
          break;
        case Op.BINUNICODE:
          this.push(this.text(this.take(this.u32('BINUNICODE'), 'BINUNICODE'), 'BINUNICODE'));
          break;
        case Op.BINUNICODE8:
          this.push(this.text(this.take(this.length64('BINUNICODE8'), 'BINUNICODE8'), 'BINUNICODE8'));
          break;
        case Op.SHORT_BINBYTES:
          this.push(this.copy(this.take(this.u8('SHORT_BINBYTES'), 'SHORT_BINBYTES')));
          break;
        case Op.BINBYTES:
          this.push(this.copy(this.take(this.u32('BINBYTES'), 'BINBYTES')));
          break;
        case Op.BINBYTES8:
          this.push(this.copy(this.take(this.length64('BINBYTES8'), 'BINBYTES8')));
          break;
        case Op.BYTEARRAY8: {
          const bytes = this.copy(this.take(this.length64('BYTEARRAY8'), 'BYTEARRAY8'));
          this.bytearrays.add(bytes);
          this.push(bytes);
          break;
        }

        case Op.EMPTY_LIST:
          this.push([]);
          break;
        case Op.LIST:
          this.push(this.popMark().map((item) => this.asData(item)));
          break;
        case Op.APPEND: {
          const item = this.asData(this.pop());
          this.list().push(item);
          break;
        }
        case Op.APPENDS: {
          const items = this.popMark();
          const target = this.list();
          for (const item of items) target.push(this.asData(item));
          break;
        }
        case Op.EMPTY_TUPLE:
          this.push(this.tuple([]));
          break;
        case Op.TUPLE:
          this.push(this.tuple(this.popMark()));
          break;
        case Op.TUPLE1:
        case Op.TUPLE2:
        case Op.TUPLE3: {
          const size = op - Op.TUPLE1 + 1;
          if (this.stack.length < size) this.fail('stack underflow');
          this.push(this.tuple(this.stack.splice(this.stack.length - size, size)));
          break;
        }
        case Op.EMPTY_DICT:
          this.push(new PyDict());
          break;
        case Op.DICT:
          this.push(this.setItems(new PyDict(), this.popMark()));
          break;
        case Op.SETITEM: {
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.dict(), [key, value]);
          break;
        }
        case Op.SETITEMS: {
          // The items first: the dict is on the stack below the MARK.
          const items = this.popMark();
          this.setItems(this.dict(), items);
          break;
        }
        case Op.EMPTY_SET:
          this.push(new Set());
          break;
        case Op.ADDITEMS: {
          const items = this.popMark();
          const target = this.top();
          if (!(target instanceof Set) || this.frozensets.has(target)) this.fail('ADDITEMS on a value that is not a set');
          for (const item of items) target.add(this.hashable(item));
          break;
        }
        case Op.FROZENSET:
          this.push(this.setOf(this.popMark(), true));
          break;

        case Op.PUT:
          this.memo.set(this.memoIndex(this.line('PUT').toString('latin1')), this.top());
          break;
        case Op.BINPUT:
          this.memo.set(this.u8('BINPUT'), this.top());
          break;
        case Op.LONG_BINPUT:
          this.memo.set(this.u32('LONG_BINPUT'), this.top());
          break;
        case Op.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case Op.GET:
        case Op.BINGET:
        case Op.LONG_BINGET: {
          const index =
            op === Op.GET ? this.memoIndex(this.line('GET').toString('latin1')) : op === Op.BINGET ? this.u8('BINGET') : this.u32('LONG_BINGET');
          if (!this.memo.has(index)) this.fail(`memo has no entry ${index}`);
          this.push(this.memo.get(index));
          break;
        }

        case Op.GLOBAL: {
          const module = this.globalName(this.line('GLOBAL'), 'GLOBAL module');
          const name = this.globalName(this.line('GLOBAL'), 'GLOBAL name');
          this.push(this.global(module, name));
          break;
        }
        case Op.STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two str');
          this.push(this.global(module, name));
          break;
        }
        case Op.REDUCE: {
          const args = this.pop();
          this.push(this.call(this.pop(), args, 'REDUCE'));
          break;
        }
        case Op.NEWOBJ: {
          const args = this.pop();
          this.push(this.call(this.pop(), args, 'NEWOBJ'));
          break;
        }
        case Op.NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof PyDict) || kwargs.keys.length) {
            throw refused(`${cls instanceof PyGlobal ? cls.qualified : 'a class'} with keyword arguments (NEWOBJ_EX)`);
          }
          this.push(this.call(cls, args, 'NEWOBJ_EX'));
          break;
        }
        case Op.BUILD: {
          const state = this.pop();
          this.top();
          if (state !== null) throw refused('object state (BUILD)');
          break;
        }

        case Op.INST: {
          const module = this.globalName(this.line('INST'), 'INST module');
          const name = this.globalName(this.line('INST'), 'INST name');
          throw refused(`${printable(`${module}.${name}`)} (INST)`);
        }
        case Op.OBJ: {
          const [cls] = this.popMark();
          throw refused(`${cls instanceof PyGlobal ? cls.qualified : 'a class'} (OBJ)`);
        }
        case Op.PERSID:
          throw refused('a persistent id (PERSID)');
        case Op.BINPERSID:
          throw refused('a persistent id (BINPERSID)');
        case Op.EXT1:
          throw refused(`extension code ${this.u8('EXT1')} (EXT1)`);
        case Op.EXT2:
          throw refused(`extension code ${this.u16('EXT2')} (EXT2)`);
        case Op.EXT4:
          throw refused(`extension code ${this.i32('EXT4')} (EXT4)`);
        case Op.NEXT_BUFFER:
        case Op.READONLY_BUFFER:
          throw refused('an out-of-band buffer (NEXT_BUFFER)');
        default:
          this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }
}

/**
 * Reads a pickle (protocols 0–5) of None, bool, int, float, str, bytes, bytearray, list, tuple,
 * dict, OrderedDict, set, frozenset, datetime, date and Decimal values, as `pickle.loads` would
 * (bytes after STOP are ignored, as there). Throws `SerializationError`, and only that, for
 * anything else: other classes and functions are refused by name, never looked up or run.
 */
export function loadPickle(data: Uint8Array): unknown {
  try {
    if (!(data instanceof Uint8Array)) throw new SerializationError('A pickle must be a Buffer or Uint8Array');
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return new Unpickler(buffer).load();
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new SerializationError(`Cannot read pickle: ${detail}`, { cause: error });
  }
}
