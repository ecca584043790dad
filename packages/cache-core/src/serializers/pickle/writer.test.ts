import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../errors';
import { resolveSerializer } from '../index';
import { afterRoundTrip, pickleable } from './fixtures/arbitraries';
import { fromTagged, hasPython, runPython } from './fixtures/corpus';
import { pickleSerializer } from './pickle-serializer';
import { loadPickle } from './reader';
import { dumpPickle } from './writer';

/** Loads each hex pickle with CPython and describes what it got (`expected` as in make-corpus.py). */
const DESCRIBE_IN_PYTHON = `
import importlib.util, json, pickle, sys
spec = importlib.util.spec_from_file_location("corpus", ${JSON.stringify(new URL('./fixtures/make-corpus.py', import.meta.url).pathname)})
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)
out = []
for data in json.load(sys.stdin):
    try:
        value = pickle.loads(bytes.fromhex(data))
        recursive = isinstance(value, list) and len(value) == 1 and value[0] is value
        out.append({
            "expected": None if recursive else corpus.expected(value),
            "recursive": recursive,
            "repr": repr(value)[:200],
            "repickled": pickle.dumps(value, 4).hex(),
        })
    except Exception as error:
        out.append({"error": repr(error)})
print(json.dumps(out))
`;

interface PythonView {
  expected?: unknown;
  recursive?: boolean;
  repr?: string;
  repickled?: string;
  error?: string;
}

const when = new Date('2024-01-02T03:04:05.678Z');
const cyclic: unknown[] = [];
cyclic.push(cyclic);
const shared = [1, 2];

/** Values with what Python's repr() must show, and whether CPython re-pickles them to the very same bytes. */
const known: Array<[string, unknown, string, boolean]> = [
  ['null', null, 'None', true],
  ['undefined', undefined, 'None', true],
  ['true', true, 'True', true],
  ['a small int', 7, '7', true],
  ['a 2-byte int', 40000, '40000', true],
  ['a negative int', -5, '-5', true],
  ['a 32-bit int', -(2 ** 31), '-2147483648', true],
  ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, '9007199254740991', true],
  ['a bigint', 2n ** 100n, '1267650600228229401496703205376', true],
  ['a negative bigint', -(2n ** 64n), '-18446744073709551616', true],
  ['a huge bigint (LONG4)', 3n ** 2000n, String(3n ** 2000n).slice(0, 200), true],
  ['a float', 1.5, '1.5', true],
  ['-0', -0, '-0.0', true],
  ['NaN', NaN, 'nan', true],
  ['Infinity', -Infinity, '-inf', true],
  ['an unsafe integer number', 2 ** 60, '1.152921504606847e+18', true],
  ['a string', 'héllo 🔑', "'héllo 🔑'", true],
  ['a lone surrogate', 'a\ud800', "'a\\ud800'", false],
  ['a Buffer', Buffer.from([0, 97, 98]), "b'\\x00ab'", true],
  ['a Uint8Array', new Uint8Array([255]), "b'\\xff'", true],
  ['an array', [1, 'a', null], "[1, 'a', None]", true],
  ['a plain object', { a: 1, b: [true] }, "{'a': 1, 'b': [True]}", true],
  ['a __proto__ key', JSON.parse('{"__proto__": 1}'), "{'__proto__': 1}", true],
  ['a Map with int keys', new Map([[1, 'x'], [2, 'y']]), "{1: 'x', 2: 'y'}", true],
  ['a Set', new Set([1, 2]), '{1, 2}', true],
  ['an empty Set', new Set(), 'set()', true],
  ['a Date', when, 'datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)', true],
  ['two Dates', [when, new Date(0)], '[datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc), datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)]', true],
  ['year 1', new Date('0001-01-01T00:00:00.000Z'), 'datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)', true],
  ['a long list', Array.from({ length: 2500 }, (_, i) => i), '[0, 1, 2, 3, 4, 5', true],
  ['a long object', Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i])), "{'k0': 0, 'k1': 1", true],
  ['a long Set', new Set(Array.from({ length: 1001 }, (_, i) => i)), '{0, 1, 2, 3', true],
  ['a large string', 'x'.repeat(70_000), "'xxxxxxxx", false],
  ['a shared array', [shared, shared], '[[1, 2], [1, 2]]', true],
  ['a recursive array', cyclic, '[[...]]', true],
];

describe.skipIf(!hasPython)('dumpPickle, read by real Python', () => {
  const generated = fc.sample(pickleable, { numRuns: 300, seed: 20_240_102 });
  const values = [...known.map(([, value]) => value), ...generated];
  const views = runPython(DESCRIBE_IN_PYTHON, values.map((value) => dumpPickle(value).toString('hex'))) as PythonView[];

  it.each(known.map(([name, value, repr, sameBytes], i) => [name, value, repr, sameBytes, i] as const))(
    '%s',
    (_name, value, repr, sameBytes, i) => {
      const view = views[i]!;
      expect(view.error).toBeUndefined();
      expect(view.repr).toContain(repr);
      if (view.recursive) expect(value).toBe(cyclic);
      else expect(fromTagged(view.expected)).toStrictEqual(afterRoundTrip(value));
      // Byte for byte what CPython writes for the same Python value (no str memo sharing differences).
      if (sameBytes) expect(dumpPickle(value).toString('hex')).toBe(view.repickled);
    },
  );

  it('reads 300 generated values as the documented mapping says', () => {
    generated.forEach((value, i) => {
      const view = views[known.length + i]!;
      expect(view.error).toBeUndefined();
      expect(fromTagged(view.expected)).toStrictEqual(afterRoundTrip(value));
    });
  });
});

describe('dumpPickle, read back by loadPickle', () => {
  it.each(known.map(([name, value]) => [name, value] as const))('%s', (_name, value) => {
    const back = loadPickle(dumpPickle(value));
    if (value === cyclic) expect((back as unknown[])[0]).toBe(back);
    else expect(back).toStrictEqual(afterRoundTrip(value));
  });

  it('keeps shared references shared and writes them once', () => {
    const back = loadPickle(dumpPickle([shared, shared])) as unknown[];
    expect(back[0]).toBe(back[1]);
    const object: Record<string, unknown> = {};
    object.self = object;
    const again = loadPickle(dumpPickle(object)) as Record<string, unknown>;
    expect(again.self).toBe(again);
  });

  it('writes protocol 4 by default, 5 on request, in one frame', () => {
    expect([...dumpPickle(null)]).toEqual([0x80, 4, 0x4e, 0x2e]);
    const five = dumpPickle('abc', 5);
    expect([...five.subarray(0, 3)]).toEqual([0x80, 5, 0x95]);
    expect(five.readBigUInt64LE(3)).toBe(BigInt(five.length - 11));
    expect(loadPickle(five)).toBe('abc');
    expect(() => dumpPickle(1, 3 as 4)).toThrow(RangeError);
  });
});

describe('dumpPickle refusals', () => {
  class Point {
    x = 1;
  }
  const deep: unknown[] = [];
  let level = deep;
  for (let i = 0; i < 1100; i++) level.push((level = []));

  it.each([
    ['a function', () => 1, /a function at the top level/],
    ['a symbol', Symbol('s'), /a symbol/],
    ['a class instance', new Point(), /a Point instance/],
    ['a nested class instance', { a: [1, new Point()] }, /a Point instance at value\.a\[1\]/],
    ['a RegExp', /x/, /a RegExp instance/],
    ['an Int16Array', new Int16Array(2), /an? Int16Array instance/],
    ['a WeakMap', new WeakMap(), /a WeakMap instance/],
    ['a Promise', Promise.resolve(), /a Promise instance/],
    ['an invalid Date', new Date(NaN), /Invalid Date/],
    ['a Date past year 9999', new Date('+010000-01-01T00:00:00Z'), /years 1 to 9999/],
    ['an array Map key', new Map([[[1], 'x']]), /an Array instance as a Map key/],
    ['a Set holding an object', new Set([{}]), /as a Set member/],
    ['Map keys 1 and true', new Map<unknown, unknown>([[1, 'a'], [true, 'b']]), /Map keys 1 and true, which are equal in Python/],
    ['Set members 2 and 2n', new Set([2, 2n]), /Set members 2 and 2, which are equal/],
    ['a symbol-keyed object', { [Symbol('k')]: 1 }, /symbol keys/],
    ['nesting deeper than 1000', deep, /nested deeper than 1000 levels/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => dumpPickle(value)).toThrow(SerializationError);
    expect(() => dumpPickle(value)).toThrow(message);
  });

  it('wraps a throwing getter', () => {
    const value = {
      get boom(): never {
        throw new Error('no');
      },
    };
    expect(() => dumpPickle(value)).toThrow(SerializationError);
  });
});

describe('pickleSerializer', () => {
  it("is the 'pickle' built-in and stores integers as pickles, not decimal text", () => {
    expect(resolveSerializer('pickle')).toBe(pickleSerializer);
    expect(pickleSerializer.name).toBe('pickle');
    expect(pickleSerializer.serialize(42).toString('hex')).toBe('80044b2a2e');
    expect(pickleSerializer.deserialize(Buffer.from('80044b2a2e', 'hex'))).toBe(42);
    expect(() => pickleSerializer.deserialize(Buffer.from('42'))).toThrow(SerializationError);
  });
});
