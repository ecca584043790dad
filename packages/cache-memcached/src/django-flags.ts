import { inflateSync } from 'node:zlib';
import { InvalidCacheBackendError, SerializationError, isDecimalInteger, loadPickle, pickleSerializer, type Serializer } from '@cachette/cache-core';
import { copyOfRange, type StoreItem } from './protocol';
import type { MemcachedItem } from './request';
import { SERIALIZER_READERS, ValueCodec, type CounterSteps, type ItemCodec } from './value-flags';

/** The Python client behind the Django backend that shares the cache (`options.djangoClient`). */
export type DjangoClient = 'pymemcache' | 'pylibmc' | 'python-memcached';

/**
 * The flag bits pymemcache (`pymemcache/serde.py`), pylibmc (`_pylibmcmodule.h`) and
 * python-memcached (`memcache.py`) agree on.
 */
export const PythonFlags = {
  bytes: 0,
  pickle: 1,
  /** pymemcache and python-memcached for every `int`; pylibmc for `bool` only. */
  integer: 2,
  /** pylibmc for every `int` (a Python 3 int is a C `long` object); read as an int by all three. */
  long: 4,
  /** zlib, combined with one of the others; pylibmc and python-memcached write it past `min_compress_len`. */
  compressed: 8,
  /** `str`, as UTF-8. */
  text: 16,
} as const;

interface WriteRules {
  /** The flag an `int` is written with. */
  integerFlag: number;
  /** pylibmc writes `True`/`False` as the integers 1 and 0 (and reads them back as ints). */
  booleansAsIntegers: boolean;
}

const WRITE_RULES: Record<DjangoClient, WriteRules> = {
  pymemcache: { integerFlag: PythonFlags.integer, booleansAsIntegers: false },
  // From 1.59 (the first with FLAG_TEXT for str), python-memcached writes exactly what pymemcache does.
  'python-memcached': { integerFlag: PythonFlags.integer, booleansAsIntegers: false },
  pylibmc: { integerFlag: PythonFlags.long, booleansAsIntegers: true },
};

/** A compressed item may not inflate past this: the bytes come from a shared server, a zlib bomb must not exhaust memory. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** What Python's `int(bytes)` accepts in base 10: ASCII whitespace around, a sign, digits with single underscores between. */
const PYTHON_INT = /^[ \t\n\v\f\r]*([+-]?\d(?:_?\d)*)[ \t\n\v\f\r]*$/;
/** A JS string with one of these cannot be UTF-8 text; Python's pickle keeps it (`surrogatepass`). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function bytesOf(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function preview(data: Buffer): string {
  return JSON.stringify(data.subarray(0, 40).toString('latin1'));
}

/** An integer as Python's `int()` reads it: a number when safe, otherwise a bigint. Memcached pads counters it shrank with spaces. */
function readPythonInt(data: Buffer): number | bigint {
  const match = PYTHON_INT.exec(data.toString('latin1'));
  if (!match) throw new SerializationError(`Stored value with an integer flag is not an integer Python can read: ${preview(data)}`);
  return toNumberWhenSafe(BigInt(match[1]!.replaceAll('_', '')));
}

function toNumberWhenSafe(value: bigint): number | bigint {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value;
}

function readText(data: Buffer): string {
  try {
    return strictUtf8.decode(data);
  } catch {
    throw new SerializationError(`Stored value with the text flag is not UTF-8: ${preview(data)}`);
  }
}

function inflate(data: Buffer): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new SerializationError(`Stored value with the compressed flag does not inflate (zlib): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * What a Python format reads: a view of the range, except raw bytes, which are handed out and so
 * get a Buffer of their own (a view would keep a whole socket chunk alive).
 */
function pythonValueBytes(flags: number, data: Buffer, start: number, end: number): Buffer {
  return flags === PythonFlags.bytes ? copyOfRange(data, start, end) : data.subarray(start, end);
}

const PYTHON_READERS = new Map<number, (data: Buffer) => unknown>([
  [PythonFlags.bytes, (data) => data],
  [PythonFlags.pickle, (data) => loadPickle(data)],
  [PythonFlags.integer, readPythonInt],
  [PythonFlags.long, readPythonInt],
  [PythonFlags.text, readText],
]);

/**
 * `serializer: 'pickle'`: items exactly as Django's memcached backends store them, so a Django
 * site and Cachette read and write each other's entries. bytes raw (flag 0), str as UTF-8 (16),
 * int as decimal text (2, or 4 for pylibmc) so memcached's `incr` works, anything else pickled
 * (1). Reading accepts what any of the three Python clients writes, compressed or not, and
 * Cachette's own v8 and json flags.
 */
export class DjangoValueCodec implements ItemCodec {
  private readonly rules: WriteRules;

  constructor(
    client: DjangoClient,
    private readonly serializer: Serializer = pickleSerializer,
  ) {
    this.rules = WRITE_RULES[client];
  }

  encode(value: unknown): StoreItem {
    if (value instanceof Uint8Array) return { value: bytesOf(value), flags: PythonFlags.bytes };
    // A lone surrogate has no UTF-8 form (Python's encode('utf8') refuses it too): pickled, it survives.
    if (typeof value === 'string' && !LONE_SURROGATE.test(value)) return { value: Buffer.from(value, 'utf8'), flags: PythonFlags.text };
    // Every int, of any size, as "%d": what pymemcache and pylibmc write, byte for byte.
    if (isDecimalInteger(value) || typeof value === 'bigint') return { value: Buffer.from(String(value), 'latin1'), flags: this.rules.integerFlag };
    if (typeof value === 'boolean' && this.rules.booleansAsIntegers) return { value: Buffer.from(value ? '1' : '0', 'latin1'), flags: PythonFlags.integer };
    return { value: this.serializer.serialize(value), flags: PythonFlags.pickle };
  }

  decode(item: MemcachedItem): unknown {
    return this.decodeRange(item.flags, item.value, 0, item.value.length);
  }

  decodeRange(storedFlags: number, data: Buffer, start: number, end: number): unknown {
    const compressed = (storedFlags & PythonFlags.compressed) !== 0;
    const flags = compressed ? storedFlags & ~PythonFlags.compressed : storedFlags;
    const read = PYTHON_READERS.get(flags);
    if (read) return read(compressed ? inflate(data.subarray(start, end)) : pythonValueBytes(flags, data, start, end));
    const ownSerializer = compressed ? undefined : SERIALIZER_READERS.get(flags);
    if (ownSerializer) return ownSerializer(data, start, end);
    throw new SerializationError(`Stored value has memcached flags ${storedFlags}, which neither Django's memcached backends nor Cachette write`);
  }

  /**
   * Django's: `incr` for a positive delta, `decr` for a negative one, which stops at 0 (memcached's
   * rule). Counters are unsigned decimal text here: a two's complement would read as a huge
   * number in Python.
   */
  counterSteps(delta: number): CounterSteps {
    const amount = BigInt(Math.abs(delta));
    return delta < 0 ? { apply: ['decr', amount], undo: ['incr', amount] } : { apply: ['incr', amount], undo: ['decr', amount] };
  }

  counterValue(result: bigint): number | bigint {
    return toNumberWhenSafe(result);
  }
}

const DJANGO_CLIENTS = Object.keys(WRITE_RULES);

/** The codec for a cache's options: Django's flags with the pickle serializer, Cachette's otherwise. */
export function createItemCodec(serializer: Serializer, djangoClient: unknown): ItemCodec {
  if (djangoClient !== undefined && !DJANGO_CLIENTS.includes(djangoClient as string)) {
    throw new InvalidCacheBackendError(`Memcached option djangoClient must be one of ${DJANGO_CLIENTS.map((name) => `'${name}'`).join(', ')}; got ${String(djangoClient)}`);
  }
  if (serializer === pickleSerializer) return new DjangoValueCodec((djangoClient as DjangoClient | undefined) ?? 'pymemcache', serializer);
  if (djangoClient !== undefined) {
    throw new InvalidCacheBackendError("Memcached option djangoClient needs serializer: 'pickle' (it chooses the flags Django's values are stored with)");
  }
  return new ValueCodec(serializer);
}
