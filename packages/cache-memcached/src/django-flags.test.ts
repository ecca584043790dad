import { deflateSync } from 'node:zlib';
import { InvalidCacheBackendError, SerializationError, dumpPickle, jsonSerializer, pickleSerializer, v8Serializer } from '@cachette/cache-core';
import { describe, expect, it } from 'vitest';
import { DjangoValueCodec, PythonFlags, createItemCodec } from './django-flags';
import { ValueCodec, ValueFlags } from './value-flags';

const pymemcache = new DjangoValueCodec('pymemcache');
const pylibmc = new DjangoValueCodec('pylibmc');

describe("DjangoValueCodec: Django's memcached flags", () => {
  it("writes pymemcache's flags: bytes raw, str as UTF-8, every int as decimal text, the rest pickled (bool too)", () => {
    expect(pymemcache.encode(Buffer.from([0, 255]))).toEqual({ value: Buffer.from([0, 255]), flags: PythonFlags.bytes });
    expect(pymemcache.encode(new Uint8Array([1, 2]))).toEqual({ value: Buffer.from([1, 2]), flags: PythonFlags.bytes });
    expect(pymemcache.encode('héllo')).toEqual({ value: Buffer.from('héllo'), flags: PythonFlags.text });
    expect(pymemcache.encode(-7)).toEqual({ value: Buffer.from('-7'), flags: PythonFlags.integer });
    expect(pymemcache.encode(2n ** 100n)).toEqual({ value: Buffer.from(String(2n ** 100n)), flags: PythonFlags.integer });
    expect(pymemcache.encode(true)).toEqual({ value: dumpPickle(true), flags: PythonFlags.pickle });
    expect(pymemcache.encode(-0)).toEqual({ value: dumpPickle(-0), flags: PythonFlags.pickle });
    expect(pymemcache.encode(1.5)).toEqual({ value: dumpPickle(1.5), flags: PythonFlags.pickle });
  });

  it('pickles a string with a lone surrogate, which has no UTF-8 form, so it survives', () => {
    const item = pymemcache.encode('broken \ud800 pair');
    expect(item.flags).toBe(PythonFlags.pickle);
    expect(pymemcache.decode(item)).toBe('broken \ud800 pair');
    expect(pymemcache.encode('😀').flags).toBe(PythonFlags.text);
  });

  it("writes pylibmc's: int with FLAG_LONG, bool as the int 1 or 0", () => {
    expect(pylibmc.encode(42)).toEqual({ value: Buffer.from('42'), flags: PythonFlags.long });
    expect(pylibmc.encode(true)).toEqual({ value: Buffer.from('1'), flags: PythonFlags.integer });
    expect(pylibmc.encode(false)).toEqual({ value: Buffer.from('0'), flags: PythonFlags.integer });
    expect(pylibmc.decode(pylibmc.encode(true))).toBe(1);
  });

  it("reads integers as Python's int() does, memcached's space padding included", () => {
    const read = (text: string, flags: number = PythonFlags.integer) => pymemcache.decode({ value: Buffer.from(text), flags });
    expect(['9 ', ' +5\n', '1_000', '-0', '007'].map((text) => read(text))).toEqual([9, 5, 1000, 0, 7]);
    expect(read('18446744073709551615', PythonFlags.long)).toBe(18446744073709551615n);
    for (const text of ['', '1__0', '_1', '0x10', '1.5', '- 1']) expect(() => read(text)).toThrow(SerializationError);
  });

  it('inflates zlib-compressed items of every kind (pylibmc and python-memcached past min_compress_len)', () => {
    const compressed = (data: Buffer, flags: number) => ({ value: deflateSync(data), flags: flags | PythonFlags.compressed });
    expect(pymemcache.decode(compressed(Buffer.from('raw'), PythonFlags.bytes))).toEqual(Buffer.from('raw'));
    expect(pymemcache.decode(compressed(Buffer.from('é'), PythonFlags.text))).toBe('é');
    expect(pymemcache.decode(compressed(Buffer.from('77'), PythonFlags.long))).toBe(77);
    expect(pymemcache.decode(compressed(dumpPickle([1, 2]), PythonFlags.pickle))).toEqual([1, 2]);
  });

  it("reads Cachette's own v8 and json items, and rejects every other flag", () => {
    expect(pymemcache.decode({ value: v8Serializer.serialize({ a: 1 }), flags: ValueFlags.v8 })).toEqual({ a: 1 });
    expect(pymemcache.decode({ value: jsonSerializer.serialize([1]), flags: ValueFlags.json })).toEqual([1]);
    for (const flags of [ValueFlags.custom, ValueFlags.v8 | PythonFlags.compressed, 3, 32]) {
      expect(() => pymemcache.decode({ value: Buffer.from('1'), flags })).toThrow(SerializationError);
    }
  });

  it("counts as Django does: incr for a positive delta, decr (stopping at 0) for a negative one, unsigned results", () => {
    expect(pymemcache.counterSteps(5)).toEqual({ apply: ['incr', 5n], undo: ['decr', 5n] });
    expect(pymemcache.counterSteps(-3)).toEqual({ apply: ['decr', 3n], undo: ['incr', 3n] });
    expect(pymemcache.counterValue(2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
  });
});

describe('createItemCodec', () => {
  it("uses Django's flags with the pickle serializer, pymemcache's by default, Cachette's otherwise", () => {
    expect(createItemCodec(pickleSerializer, undefined).encode(1).flags).toBe(PythonFlags.integer);
    expect(createItemCodec(pickleSerializer, 'pylibmc').encode(1).flags).toBe(PythonFlags.long);
    expect(createItemCodec(pickleSerializer, 'python-memcached').encode(true).flags).toBe(PythonFlags.pickle);
    expect(createItemCodec(v8Serializer, undefined)).toBeInstanceOf(ValueCodec);
  });

  it('rejects an unknown djangoClient, and one without the pickle serializer', () => {
    expect(() => createItemCodec(pickleSerializer, 'memcache')).toThrow(InvalidCacheBackendError);
    expect(() => createItemCodec(v8Serializer, 'pymemcache')).toThrow(/needs serializer: 'pickle'/);
  });

  it("hands out raw bytes without a second copy: an item's own Buffer as is, a range of a shared chunk copied", () => {
    for (const codec of [createItemCodec(v8Serializer, undefined), createItemCodec(pickleSerializer, undefined)]) {
      const item = { value: Buffer.from('raw bytes'), flags: ValueFlags.bytes };
      expect(codec.decode(item)).toBe(item.value);
      const chunk = Buffer.from('..raw bytes..');
      const ranged = codec.decodeRange(ValueFlags.bytes, chunk, 2, 11);
      chunk.fill(0); // a view would show this (and keep the whole chunk alive)
      expect(ranged).toEqual(Buffer.from('raw bytes'));
    }
  });
});
