/**
 * Typed JSON: Python values as JSON without loss (the encoding cache-peer.py speaks), and their
 * mapping to the JS values Cachette's pickle serializer produces.
 */
export type TypedValue =
  | { t: 'none' }
  | { t: 'bool'; v: boolean }
  /** Decimal digits, any size. */
  | { t: 'int'; v: string }
  /** A finite number, or 'nan' / 'inf' / '-inf' / '-0.0' (JSON has no NaN, and JSON.stringify(-0) is "0"). */
  | { t: 'float'; v: number | 'nan' | 'inf' | '-inf' | '-0.0' }
  | { t: 'str'; v: string }
  | { t: 'bytes'; b64: string }
  | { t: 'list' | 'tuple' | 'set' | 'frozenset'; v: TypedValue[] }
  /** Pairs, so keys keep their types (1 and '1' are different keys). */
  | { t: 'dict'; v: [TypedValue, TypedValue][] }
  /** `iso` is the wall-clock time without an offset; `tz` null (naive), 'utc' or a fixed offset '+HH:MM'. */
  | { t: 'datetime'; iso: string; tz: string | null }
  | { t: 'date'; iso: string }
  | { t: 'decimal'; v: string }
  /** Only in replies: a Python value of another type, which has no typed form. */
  | { t: 'repr'; type: string; v: string };

/** What `fromTyped` gives. */
export type PythonLike =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | PythonLike[]
  | Set<PythonLike>
  | Map<PythonLike, PythonLike>
  | { [key: string]: PythonLike };

function floatToTyped(value: number): TypedValue {
  if (Number.isNaN(value)) return { t: 'float', v: 'nan' };
  if (!Number.isFinite(value)) return { t: 'float', v: value > 0 ? 'inf' : '-inf' };
  return { t: 'float', v: Object.is(value, -0) ? '-0.0' : value };
}

function floatFromTyped(v: number | string): number {
  if (typeof v === 'number') return v;
  const special: Record<string, number> = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, '-inf': Number.NEGATIVE_INFINITY, '-0.0': -0 };
  if (v in special) return special[v]!;
  throw new Error(`Not a typed float: ${JSON.stringify(v)}`);
}

/**
 * A JS value as typed JSON: null/undefined → none, an integral number → int (so 3.0 → int; use
 * `{ t: 'float', v: 3 }` for a float), other numbers → float, bigint → int, Buffer/Uint8Array →
 * bytes, array → list, Set → set, Map → dict, plain object → dict with str keys, Date → datetime
 * in UTC ('utc').
 */
export function toTyped(value: unknown): TypedValue {
  if (value === null || value === undefined) return { t: 'none' };
  switch (typeof value) {
    case 'boolean':
      return { t: 'bool', v: value };
    case 'number':
      return Number.isInteger(value) && !Object.is(value, -0) ? { t: 'int', v: value.toString() } : floatToTyped(value);
    case 'bigint':
      return { t: 'int', v: value.toString() };
    case 'string':
      return { t: 'str', v: value };
  }
  if (value instanceof Uint8Array) return { t: 'bytes', b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return { t: 'list', v: value.map(toTyped) };
  if (value instanceof Set) return { t: 'set', v: [...value].map(toTyped) };
  if (value instanceof Map) return { t: 'dict', v: [...value].map(([key, item]) => [toTyped(key), toTyped(item)]) };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('toTyped: an invalid Date');
    return { t: 'datetime', iso: value.toISOString().slice(0, -1), tz: 'utc' };
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return { t: 'dict', v: Object.entries(value).map(([key, item]) => [{ t: 'str', v: key }, toTyped(item)]) };
  }
  throw new Error(`toTyped: no Python form for ${Object.prototype.toString.call(value)}`);
}

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const TZ_OFFSET = /^([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Milliseconds since the epoch of a wall-clock ISO time read as UTC (microseconds truncated). */
function utcMillis(iso: string): number {
  const match = ISO_DATETIME.exec(iso);
  if (!match) throw new Error(`Not an ISO date/time: ${JSON.stringify(iso)}`);
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = ''] = match;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  return Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), millis);
}

function offsetMillis(tz: string | null): number {
  if (tz === null || tz === 'utc') return 0;
  const match = TZ_OFFSET.exec(tz);
  if (!match) throw new Error(`fromTyped: unsupported tz ${JSON.stringify(tz)}`);
  const [, sign, hours, minutes, seconds = '0'] = match;
  return (sign === '-' ? -1 : 1) * ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}

/**
 * Typed JSON as the JS value Cachette's pickle serializer produces: none → null, int → number
 * when safe else bigint, float → number, bytes → Buffer, list/tuple → array, set/frozenset →
 * Set, dict → plain object when every key is a str else Map, datetime → Date (naive read as
 * UTC), date → Date at UTC midnight, decimal → its string. A `repr` value throws.
 */
export function fromTyped(typed: TypedValue): PythonLike {
  switch (typed.t) {
    case 'none':
      return null;
    case 'bool':
      return typed.v;
    case 'int': {
      const big = BigInt(typed.v);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case 'float':
      return floatFromTyped(typed.v);
    case 'str':
    case 'decimal':
      return typed.v;
    case 'bytes':
      return Buffer.from(typed.b64, 'base64');
    case 'list':
    case 'tuple':
      return typed.v.map(fromTyped);
    case 'set':
    case 'frozenset':
      return new Set(typed.v.map(fromTyped));
    case 'dict':
      if (typed.v.every(([key]) => key.t === 'str')) {
        return Object.fromEntries(typed.v.map(([key, item]) => [(key as { v: string }).v, fromTyped(item)]));
      }
      return new Map(typed.v.map(([key, item]) => [fromTyped(key), fromTyped(item)]));
    case 'datetime':
      return new Date(utcMillis(typed.iso) - offsetMillis(typed.tz));
    case 'date':
      return new Date(utcMillis(typed.iso));
    case 'repr':
      throw new Error(`fromTyped: Django returned a ${typed.type}, which has no typed form: ${typed.v}`);
  }
}

/**
 * Samples Django cannot read back exactly once a JS program rewrote them, and why: JavaScript has
 * one array type, one set type, one date type (to the millisecond) and no decimal or float-typed
 * whole number, so what is written back is the Python type nearest to what was read.
 */
export const ONE_WAY_SAMPLES: Readonly<Record<string, string>> = {
  list: 'the float 3.0 is the number 3 in JavaScript, pickled back as the int 3',
  tuple: 'read as an array, pickled back as a list',
  frozenset: 'read as a Set, pickled back as a set',
  datetime_naive: 'read as a Date taken as UTC, pickled back as an aware UTC datetime',
  datetime_utc: 'a Date keeps milliseconds, so the microseconds 678901 come back as 678000',
  date: 'read as a Date at UTC midnight, pickled back as a datetime',
  decimal: 'read as a string, pickled back as a str',
};
