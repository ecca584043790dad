import { createHash } from 'node:crypto';
import type { ValueDomain } from './capabilities';

/** Values every backend must round-trip, by the value domain it declares. */

export interface ValueSample {
  label: string;
  value: unknown;
  /** The class the value read back must be an instance of, where equality alone cannot tell. */
  instanceOf?: abstract new (...args: never[]) => unknown;
}

const JSON_SAMPLES: ValueSample[] = [
  { label: 'a string', value: 'hello, world' },
  { label: 'an empty string', value: '' },
  { label: 'a string that looks like an integer', value: '42' },
  { label: 'a string of astral characters', value: '😀𝄞🀄 mixed with ascii' },
  { label: 'a string with a lone surrogate', value: 'broken \ud800 pair' },
  { label: 'a safe integer', value: 1234 },
  { label: 'zero', value: 0 },
  { label: 'a negative integer', value: -17 },
  { label: 'the largest safe integer', value: Number.MAX_SAFE_INTEGER },
  { label: 'a float', value: 3.25 },
  { label: 'true', value: true },
  { label: 'false', value: false },
  { label: 'null', value: null },
  { label: 'an array', value: [1, 'two', null, [3]] },
  { label: 'an empty array', value: [] },
  { label: 'a plain object', value: { a: 1, b: 'two', c: null } },
  { label: 'an empty object', value: {} },
  { label: 'nested objects and arrays', value: { list: [{ deep: { deeper: [1, 2, { deepest: 'yes' }] } }], count: 2 } },
];

function cyclicObject(): object {
  const parent: { name: string; children: object[] } = { name: 'parent', children: [] };
  parent.children.push({ name: 'child', parent });
  return parent;
}

const V8_ONLY_SAMPLES: ValueSample[] = [
  { label: 'undefined', value: undefined },
  { label: 'negative zero', value: -0 },
  { label: 'NaN', value: Number.NaN },
  { label: 'Infinity', value: Number.POSITIVE_INFINITY },
  { label: 'an integer beyond the safe range', value: 2 ** 60 },
  { label: 'a BigInt', value: 12345678901234567890123456789n },
  { label: 'a Date', value: new Date('2024-02-29T12:34:56.789Z'), instanceOf: Date },
  { label: 'a Buffer', value: Buffer.from('buffer bytes'), instanceOf: Uint8Array },
  { label: 'a Uint8Array', value: new Uint8Array([0, 1, 254, 255]), instanceOf: Uint8Array },
  { label: 'a Map', value: new Map<unknown, unknown>([['a', 1], [2, { b: true }]]), instanceOf: Map },
  { label: 'a Set', value: new Set([1, 'two', 3n]), instanceOf: Set },
  { label: 'a RegExp', value: /ab+c/gi, instanceOf: RegExp },
  { label: 'a Float64Array', value: new Float64Array([0.5, -1e300, Number.NaN]), instanceOf: Float64Array },
  { label: 'a sparse array', value: [1, , 3] },
  { label: 'a cyclic object', value: cyclicObject() },
  {
    label: 'nested structured values',
    value: { when: new Date(0), tags: new Set(['x']), index: new Map([['k', [1n, Buffer.from([7])]]]), nothing: undefined },
  },
];

/**
 * What pickle adds to JSON: the types Python has too. A BigInt in the safe range reads back as a
 * number (Python has one int type), so the samples use large ones.
 */
const PICKLE_SAMPLES: ValueSample[] = [
  ...V8_ONLY_SAMPLES.filter(({ label }) => ['negative zero', 'NaN', 'Infinity', 'an integer beyond the safe range', 'a BigInt', 'a Date', 'a Buffer', 'a Map', 'a cyclic object'].includes(label)),
  { label: 'a Set', value: new Set([1, 'two', 10n ** 30n]), instanceOf: Set },
  { label: 'nested structured values', value: { when: new Date(0), tags: new Set(['x']), index: new Map([[1, [10n ** 20n, Buffer.from([7])]]]) } },
];

export function valueSamples(domain: ValueDomain): ValueSample[] {
  if (domain === 'json') return JSON_SAMPLES;
  return [...JSON_SAMPLES, ...(domain === 'v8' ? V8_ONLY_SAMPLES : PICKLE_SAMPLES)];
}

/** Values the JSON domain cannot represent: a JSON backend must reject them, not change them. */
export const NON_JSON_VALUES: ReadonlyArray<{ label: string; value: unknown }> = [
  { label: 'undefined', value: undefined },
  { label: 'a BigInt', value: 1n },
  { label: 'a Date', value: new Date(0) },
  { label: 'a Buffer', value: Buffer.from('x') },
  { label: 'a Map', value: new Map() },
  { label: 'NaN', value: Number.NaN },
];

/** Values pickle cannot represent: a pickle backend must reject them, not change them. */
export const NON_PICKLE_VALUES: ReadonlyArray<{ label: string; value: unknown }> = [
  { label: 'a RegExp', value: /ab+c/gi },
  { label: 'a Float64Array', value: new Float64Array([0.5]) },
  { label: 'a function', value: () => 1 },
  { label: 'a class instance', value: new (class Point { x = 1; })() },
];

/** Every byte value, and the byte sequences text protocols treat as structure. */
export function awkwardBinaryValues(): Array<{ label: string; value: Buffer }> {
  return [
    { label: 'all 256 byte values', value: Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)) },
    { label: 'a memcached end marker', value: Buffer.from('\r\nEND\r\n') },
    { label: 'a Redis reply prefix', value: Buffer.from('$-1\r\n*3\r\n+OK\r\n-ERR x\r\n') },
    { label: 'an empty buffer', value: Buffer.alloc(0) },
  ];
}

/**
 * A value of `size` bytes (letters for the JSON domain) whose content varies along its length
 * and with `seed`: compression, chunking or mixed-up replies cannot hide behind one repeated byte.
 */
export function patternedValue(size: number, seed: number, domain: ValueDomain): Buffer | string {
  const bytes = Buffer.allocUnsafe(size);
  for (let index = 0; index < size; index++) {
    bytes[index] = domain === 'json' ? 97 + ((index * 7 + seed) % 26) : (index * 31 + (index >> 8) + seed) & 0xff;
  }
  return domain === 'json' ? bytes.toString('latin1') : bytes;
}

/**
 * A short description of a large value (type, length and digest) to compare instead of the
 * value: quick where toEqual walks every element, and readable when it fails.
 */
export function fingerprint(value: unknown): string {
  if (typeof value === 'string') return `string of ${value.length}: ${createHash('sha1').update(value, 'utf8').digest('hex')}`;
  if (Buffer.isBuffer(value)) return `Buffer of ${value.length}: ${createHash('sha1').update(value).digest('hex')}`;
  return `not a string or Buffer: ${typeof value}`;
}
