import { describe, expect, it } from 'vitest';
import { SerializationError } from '../errors';
import { deserializeRange, jsonSerializer, pickleSerializer, resolveSerializer, v8Serializer } from './index';

const richValues: Array<[string, unknown]> = [
  ['string', 'héllo 清 😀'],
  ['empty string', ''],
  ['float', 1.5],
  ['negative zero', -0],
  ['unsafe integer', 2 ** 60],
  ['boolean', true],
  ['null', null],
  ['undefined', undefined],
  ['bigint', 12345678901234567890n],
  ['date', new Date('2024-01-02T03:04:05Z')],
  ['buffer', Buffer.from([0, 1, 2, 254, 255])],
  ['uint8array', new Uint8Array([9, 8, 7])],
  ['map', new Map<unknown, unknown>([['a', 1], [2, { b: [3] }]])],
  ['set', new Set([1, 'two'])],
  ['nested', { list: [1, 'a', { deep: [null, true] }], when: new Date(0) }],
];

describe('v8Serializer', () => {
  it.each(richValues)('round-trips %s', (_name, value) => {
    expect(v8Serializer.deserialize(v8Serializer.serialize(value))).toEqual(value);
  });

  it('keeps a Buffer a Buffer', () => {
    expect(Buffer.isBuffer(v8Serializer.deserialize(v8Serializer.serialize(Buffer.from('x'))))).toBe(true);
  });

  it('stores safe integers as decimal text, readable by server-side increments', () => {
    expect(v8Serializer.serialize(42).toString()).toBe('42');
    expect(v8Serializer.serialize(-7).toString()).toBe('-7');
    expect(v8Serializer.deserialize(Buffer.from('123'))).toBe(123);
    expect(v8Serializer.deserialize(Buffer.from('18446744073709551615'))).toBe(18446744073709551615n);
  });

  it('marks everything else with the versioned Cachette header', () => {
    const bytes = v8Serializer.serialize('42');
    expect([...bytes.subarray(0, 2)]).toEqual([0xca, 0x01]);
    expect(v8Serializer.deserialize(bytes)).toBe('42');
  });

  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a nested function', { handler() {} }],
    ['a promise', Promise.resolve(1)],
  ])('rejects %s with SerializationError', (_name, value) => {
    expect(() => v8Serializer.serialize(value)).toThrow(SerializationError);
  });

  it('rejects foreign, corrupt and future-format bytes', () => {
    expect(() => v8Serializer.deserialize(Buffer.from('hello'))).toThrow(SerializationError);
    expect(() => v8Serializer.deserialize(Buffer.from([0xca, 0x01, 0xff]))).toThrow(SerializationError);
    expect(() => v8Serializer.deserialize(Buffer.from([0xca, 0x09, 0xff, 0x0f]))).toThrow(/format 9/);
  });
});

describe('jsonSerializer', () => {
  it.each([
    ['string', 'héllo'],
    ['integer', 42],
    ['float', 2.5],
    ['null', null],
    ['object', { a: [1, 'b', { c: false }] }],
  ])('round-trips %s', (_name, value) => {
    expect(jsonSerializer.deserialize(jsonSerializer.serialize(value))).toEqual(value);
  });

  it('keeps an integer beyond 2^53 a number (found by fuzzing: it read back as a BigInt)', () => {
    for (const value of [2 ** 53, -(2 ** 60), 1e20]) expect(jsonSerializer.deserialize(jsonSerializer.serialize(value))).toBe(value);
    expect(jsonSerializer.deserialize(Buffer.from('9007199254740993'))).toBe(9007199254740993n);
  });

  it('writes plain JSON text', () => {
    expect(jsonSerializer.serialize({ a: 1 }).toString()).toBe('{"a":1}');
    expect(jsonSerializer.serialize(7).toString()).toBe('7');
  });

  it.each([
    ['undefined', undefined],
    ['a nested undefined', { a: undefined }],
    ['a bigint', 1n],
    ['a Date', new Date()],
    ['a Map', new Map()],
    ['a Buffer', Buffer.from('x')],
    ['NaN', NaN],
    ['a function in an array', [() => 1]],
    // Found by fuzzing (serializers.fuzz.test.ts): JSON.stringify wrote -0 as 0.
    ['negative zero', -0],
    ['a nested negative zero', { a: [-0] }],
  ])('rejects %s instead of changing it', (_name, value) => {
    expect(() => jsonSerializer.serialize(value)).toThrow(SerializationError);
  });

  it('rejects cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonSerializer.serialize(cyclic)).toThrow(/cyclic/);
  });
});

describe('resolveSerializer', () => {
  it('defaults to v8 and accepts names and objects', () => {
    expect(resolveSerializer(undefined)).toBe(v8Serializer);
    expect(resolveSerializer('json')).toBe(jsonSerializer);
    expect(resolveSerializer('pickle')).toBe(pickleSerializer);
    const custom = { name: 'c', serialize: () => Buffer.alloc(0), deserialize: () => null };
    expect(resolveSerializer(custom)).toBe(custom);
  });

  it('rejects anything else', () => {
    expect(() => resolveSerializer('yaml')).toThrow(TypeError);
    expect(() => resolveSerializer({})).toThrow(TypeError);
  });
});

describe('deserializeRange: a value read out of a larger buffer', () => {
  /** `bytes` between unrelated bytes, as one value of an MGET reply lies in the socket's chunk. */
  const embedded = (bytes: Buffer): [Buffer, number, number] => [Buffer.concat([Buffer.from('$9\r\n12'), bytes, Buffer.from('99\r\n')]), 6, 6 + bytes.length];
  const jsonValues: Array<[string, unknown]> = [
    ['string', 'héllo 清 😀'],
    ['float', 1.5],
    ['null', null],
    ['nested', { list: [1, 'a', { deep: [null, true] }] }],
  ];

  it.each([...richValues, ['integer', 42], ['negative integer', -7]] as Array<[string, unknown]>)('v8: %s', (_name, value) => {
    expect(deserializeRange(v8Serializer, ...embedded(v8Serializer.serialize(value)))).toEqual(value);
  });

  it.each([...jsonValues, ['integer', 42]] as Array<[string, unknown]>)('json: %s', (_name, value) => {
    expect(deserializeRange(jsonSerializer, ...embedded(jsonSerializer.serialize(value)))).toEqual(value);
  });

  it('falls back to deserialize for a serializer without it (pickle)', () => {
    expect(deserializeRange(pickleSerializer, ...embedded(pickleSerializer.serialize({ a: [1, 'b'] })))).toEqual({ a: [1, 'b'] });
  });

  it('rejects what the serializer did not write, as deserialize does', () => {
    const corrupt = Buffer.from([0xca, 0x01, 0xff, 0x0f, 0x6f]);
    expect(() => deserializeRange(v8Serializer, ...embedded(corrupt))).toThrow(SerializationError);
    expect(() => deserializeRange(v8Serializer, ...embedded(Buffer.from([0xca, 0x07])))).toThrow(/format 7/);
    expect(() => deserializeRange(v8Serializer, ...embedded(Buffer.from('12x')))).toThrow(SerializationError);
    expect(() => deserializeRange(jsonSerializer, ...embedded(Buffer.from('{')))).toThrow(SerializationError);
  });

  it('reads a string only up to the end it is given, not to the end of the buffer', () => {
    const stored = v8Serializer.serialize('abc');
    const [buffer, start, end] = embedded(stored);
    expect(() => deserializeRange(v8Serializer, buffer, start, end - 1)).toThrow(SerializationError);
  });
});
