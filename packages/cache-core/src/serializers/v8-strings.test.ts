import { DefaultDeserializer } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { readV8String } from './v8-strings';
import { v8Serializer } from './v8-serializer';

function readWithV8(data: Buffer): unknown {
  const deserializer = new DefaultDeserializer(data);
  deserializer.readRawBytes(2);
  deserializer.readHeader();
  return deserializer.readValue();
}

const STRINGS = [
  '',
  'a',
  'plain ascii text',
  'café crème',
  'ÿ'.repeat(300),
  '日本語のテキスト',
  'emoji 😀 and a lone surrogate \ud800 here',
  '\u0000\r\n binary-ish',
  ...[1, 63, 64, 127, 128, 129, 8191, 8192, 16_384, 100_000].flatMap((length) => ['x'.repeat(length), '日'.repeat(length)]),
];

describe('readV8String', () => {
  it('reads every string exactly as V8 does, one-byte and two-byte, padded or not', () => {
    for (const text of STRINGS) {
      const stored = v8Serializer.serialize(text);
      expect(readV8String(stored, 2)).toBe(readWithV8(stored));
      expect(readV8String(stored, 2)).toBe(text);
    }
  });

  it('declines anything that is not exactly one string', () => {
    for (const value of [1.5, null, undefined, true, ['a'], { a: 'b' }, new Map([['a', 'b']]), Buffer.from('abc'), 10n]) {
      expect(readV8String(v8Serializer.serialize(value), 2)).toBeUndefined();
    }
  });

  it('declines truncated or extended data, leaving the error to V8', () => {
    const stored = v8Serializer.serialize('some text');
    expect(readV8String(stored.subarray(0, stored.length - 1), 2)).toBeUndefined();
    expect(readV8String(Buffer.concat([stored, Buffer.from([0])]), 2)).toBeUndefined();
    expect(readV8String(stored.subarray(0, 5), 2)).toBeUndefined();
  });
});
