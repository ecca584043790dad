import { deserialize, serialize } from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NOT_PLAIN, copyPlainTree, copyTree } from './plain-copy';

function v8RoundTrip(value: unknown): unknown {
  return deserialize(serialize(value));
}

/** Same structure, prototypes and key order at every level. */
function sameShape(actual: unknown, expected: unknown): boolean {
  if (!isDeepStrictEqual(actual, expected)) return false;
  if (typeof actual !== 'object' || actual === null) return true;
  const keys = Object.keys(actual);
  if (keys.join('\0') !== Object.keys(expected as object).join('\0')) return false;
  return keys.every((key) => sameShape((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key]));
}

const plainTrees: Record<string, object> = {
  'an empty object': {},
  'an empty array': [],
  'nested objects and arrays': { id: 1, name: 'Ada', roles: ['admin', 'editor'], address: { city: 'Paris', lines: [['a'], []] } },
  'every immutable type': { text: '', number: -0, nan: Number.NaN, infinity: -Infinity, yes: true, none: null, missing: undefined, big: 2n ** 80n },
  'integer-like keys': { b: 1, 2: 'two', a: 2, 1: 'one', '-1': 'minus' },
  'a getter, read once': Object.defineProperty({ plain: 1 }, 'computed', { get: () => 'got', enumerable: true }),
  'symbol keys and hidden properties, dropped': Object.defineProperties({ [Symbol('s')]: 1, shown: 2 }, { hidden: { value: 3, enumerable: false } }),
  'an array of objects': [{ a: 1 }, { a: 2 }, [1, [2, [3]]]],
};

const notPlain: Record<string, () => object> = {
  'a Date': () => ({ when: new Date(0) }),
  'a Map': () => [new Map([[1, 2]])],
  'a Buffer': () => ({ bytes: Buffer.from('x') }),
  'a class instance': () => ({ item: new (class Point { x = 1 })() }),
  'an object without a prototype': () => ({ bare: Object.create(null) }),
  'a function': () => ({ run: () => 1 }),
  'a symbol value': () => ({ tag: Symbol('x') }),
  'a proxy': () => ({ proxied: new Proxy({}, {}) }),
  'a cycle': () => {
    const node: Record<string, unknown> = {};
    node.self = node;
    return node;
  },
  'an object reachable twice': () => {
    const shared = { n: 1 };
    return [shared, shared];
  },
  'an array with a hole': () => [1, , 3],
  'an array with a named property': () => Object.assign([1, 2], { extra: true }),
  'a __proto__ key': () => JSON.parse('{"__proto__": {"polluted": true}}') as object,
  'a boxed string': () => ({ text: new String('x') }),
  'a very deep value': () => {
    let value: object = {};
    for (let depth = 0; depth < 100; depth++) value = { next: value };
    return value;
  },
  'a getter that throws': () =>
    Object.defineProperty({}, 'broken', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    }),
  'a very large array': () => ({ items: Array.from({ length: 20_000 }, (_, index) => index) }),
};

describe('copyPlainTree', () => {
  for (const [name, value] of Object.entries(plainTrees)) {
    it(`copies ${name} exactly as a v8 round trip does, and so does copyTree`, () => {
      const stored = copyPlainTree(value);
      expect(stored).not.toBe(NOT_PLAIN);
      expect(sameShape(stored, v8RoundTrip(value))).toBe(true);
      const copied = copyTree(stored);
      expect(sameShape(copied, v8RoundTrip(value))).toBe(true);
      expect(copied).not.toBe(stored);
    });
  }

  for (const [name, make] of Object.entries(notPlain)) {
    it(`leaves ${name} to the serializer`, () => {
      expect(copyPlainTree(make())).toBe(NOT_PLAIN);
    });
  }

  it('shares nothing between the value, the stored copy and the copies read', () => {
    const value = { list: [{ n: 1 }] };
    const stored = copyPlainTree(value) as typeof value;
    const read = copyTree(stored) as typeof value;
    read.list[0]!.n = 2;
    value.list[0]!.n = 3;
    expect(stored.list[0]!.n).toBe(1);
    expect(stored.list).not.toBe(value.list);
  });
});
