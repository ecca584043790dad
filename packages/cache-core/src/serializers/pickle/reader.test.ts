import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../errors';
import { corpus, fromTagged } from './fixtures/corpus';
import { loadPickle } from './reader';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A protocol 4 pickle of `body` (opcodes, without PROTO and STOP), unframed. */
const p4 = (...parts: Array<string | Buffer | number[]>): Buffer =>
  Buffer.concat([Buffer.from([0x80, 4]), ...parts.map((part) => (typeof part === 'string' ? latin1(part) : Buffer.from(part))), latin1('.')]);

function loadError(data: Buffer): SerializationError {
  try {
    loadPickle(data);
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return error as SerializationError;
  }
  throw new Error('expected loadPickle to throw');
}

describe('loadPickle: the corpus written by CPython', () => {
  it('holds every protocol of every value', () => {
    expect(new Set(corpus.entries.map((entry) => entry.protocol))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(corpus.entries.length).toBeGreaterThan(300);
  });

  it.each(corpus.entries.filter((entry) => !entry.check).map((entry) => [entry.name, entry.protocol, entry] as const))(
    '%s, protocol %d',
    (_name, _protocol, entry) => {
      const value = loadPickle(hex(entry.hex));
      expect(value).toStrictEqual(fromTagged(entry.expected));
    },
  );

  it.each(corpus.entries.filter((entry) => entry.check === 'shared').map((entry) => [entry.protocol, entry] as const))(
    'keeps a shared sub-list shared, protocol %d',
    (_protocol, entry) => {
      const value = loadPickle(hex(entry.hex)) as unknown[][];
      expect(value).toStrictEqual(fromTagged(entry.expected));
      expect(value[0]).toBe(value[1]);
    },
  );

  it.each(corpus.entries.filter((entry) => entry.check === 'recursive').map((entry) => [entry.protocol, entry] as const))(
    'reads a recursive list as a cyclic array, protocol %d',
    (_protocol, entry) => {
      const value = loadPickle(hex(entry.hex)) as unknown[];
      expect(value).toHaveLength(1);
      expect(value[0]).toBe(value);
    },
  );

  it('gives Buffers for bytes and plain objects whose __proto__ key is only a key', () => {
    const bytes = corpus.entries.find((entry) => entry.name === 'bytearray' && entry.protocol === 5)!;
    expect(Buffer.isBuffer(loadPickle(hex(bytes.hex)))).toBe(true);
    for (const entry of corpus.entries.filter((candidate) => candidate.name === '__proto__ key')) {
      const value = loadPickle(hex(entry.hex)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.hasOwn(value, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('accepts a Uint8Array and ignores bytes after STOP, as pickle.loads does', () => {
    expect(loadPickle(new Uint8Array([0x80, 4, 0x4b, 7, 0x2e, 0xff, 0xff]))).toBe(7);
  });
});

describe('loadPickle: refusals', () => {
  it.each(corpus.refusals.map((refusal) => [refusal.name, refusal.protocol, refusal] as const))(
    'refuses %s, protocol %d',
    (_name, _protocol, refusal) => {
      const error = loadError(hex(refusal.hex));
      expect(error.message).toContain(refusal.refuses);
      expect(error.message).toMatch(/^pickle refers to .*, which Cachette does not load$/);
    },
  );

  it('runs nothing: the os.system and eval pickles leave no file behind', () => {
    for (const refusal of corpus.refusals.filter((candidate) => ['os.system', 'builtins.eval'].includes(candidate.name))) {
      expect(() => loadPickle(hex(refusal.hex))).toThrow(SerializationError);
    }
    expect(existsSync(corpus.touchedFile)).toBe(false);
  });

  it.each([
    ['GLOBAL os.system + REDUCE', "cos\nsystem\n(S'touch /tmp/cachette-pickle-must-not-exist'\ntR.", 'os.system'],
    ['STACK_GLOBAL builtins.getattr', '\x80\x04\x8c\x08builtins\x8c\x07getattr\x93.', 'builtins.getattr'],
    ['INST', "(S'ls'\nios\nsystem\n.", 'os.system (INST)'],
    ['OBJ', '(cdatetime\ndate\nK\x01o.', 'datetime.date (OBJ)'],
    ['NEWOBJ on a whitelisted class where __new__ differs', '\x80\x04c__builtin__\nset\n)\x81.', 'builtins.set through NEWOBJ'],
    ['BUILD with state', '\x80\x04]}b.', 'object state (BUILD)'],
    ['EXT2', '\x80\x02\x83\x01\x02.', 'extension code 513 (EXT2)'],
    ['EXT4', '\x80\x02\x84\x01\x00\x00\x00.', 'extension code 1 (EXT4)'],
    ['copyreg._reconstructor', '\x80\x02ccopyreg\n_reconstructor\n.', 'copyreg._reconstructor'],
    ['a dotted name', '\x80\x04\x8c\x08datetime\x8c\x0fdatetime.utcnow\x93.', 'datetime.datetime.utcnow'],
  ])('refuses %s', (_name, pickle, names) => {
    expect(loadError(latin1(pickle)).message).toBe(`pickle refers to ${names}, which Cachette does not load`);
  });
});

describe('loadPickle: bounds and corrupt input', () => {
  it.each([
    ['empty input', ''],
    ['no STOP', '\x80\x04K\x01'],
    ['a truncated BININT', '\x80\x04J\x01\x02'],
    ['a truncated text line', 'I12'],
    ['an unknown opcode', '\x80\x04\xff.'],
    ['a future protocol', '\x80\x06N.'],
    ['stack underflow', '\x80\x04.'],
    ['APPEND to a tuple', '\x80\x04)K\x01a.'],
    ['SETITEM on a list', '\x80\x04]K\x01K\x02s.'],
    ['a missing memo entry', '\x80\x04h\x05.'],
    ['a missing MARK', '\x80\x04e.'],
    ['a list as a dict key', '\x80\x04}]K\x01s.'],
    ['a list in a set', '\x80\x04\x8f(]\x90.'],
    ['invalid UTF-8', '\x80\x04\x8c\x01\xff.'],
    ['an invalid datetime state', '\x80\x04\x8c\x08datetime\x8c\x08datetime\x93C\x0a\x07\xe8\x0d\x01\x00\x00\x00\x00\x00\x00\x85R.'],
    ['an invalid Decimal', '\x80\x04\x8c\x07decimal\x8c\x07Decimal\x93\x8c\x03abc\x85R.'],
    ['_codecs.encode with another codec', '\x80\x04\x8c\x07_codecs\x8c\x06encode\x93\x8c\x01a\x8c\x04utf8\x86R.'],
    ['a LONG with more than 4300 digits', `L${'9'.repeat(4400)}L\n.`],
    ['a timezone of a day', '\x80\x04\x8c\x08datetime\x8c\x08timezone\x93\x8c\x08datetime\x8c\x09timedelta\x93K\x01\x85R\x85R.'],
  ])('throws SerializationError for %s', (_name, pickle) => {
    loadError(latin1(pickle));
  });

  it.each([
    ['BINBYTES', [0x42, 0xff, 0xff, 0xff, 0x7f]],
    ['BINUNICODE', [0x58, 0x00, 0x00, 0x00, 0x80]],
    ['BINSTRING', [0x54, 0xff, 0xff, 0xff, 0x7f]],
    ['BINBYTES8', [0x8e, 0, 0, 0, 0x80, 0, 0, 0, 0]],
    ['BINUNICODE8', [0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['BYTEARRAY8', [0x96, 0, 0, 0, 0, 1, 0, 0, 0]],
    ['FRAME', [0x95, 0, 0, 0, 0x80, 0, 0, 0, 0]],
    ['LONG4', [0x8b, 0xff, 0xff, 0xff, 0x7f]],
  ])('refuses a %s length beyond the input at once, without allocating', (name, bytes) => {
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    expect(loadError(p4(bytes)).message).toMatch(new RegExp(`${name} needs \\d+ bytes but only \\d+ remain`));
    expect(performance.now() - started).toBeLessThan(50);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses 100 000 nested lists cleanly', () => {
    const depth = 100_000;
    const nested = p4(Array(depth).fill(']').join(''), Array(depth - 1).fill('a').join(''));
    expect(loadError(nested).message).toMatch(/nested deeper than 1000 levels/);
  });

  it('refuses 100 000 MARKs and 100 000 nested tuples cleanly', () => {
    loadError(p4('('.repeat(100_000)));
    expect(loadError(p4(')', '\x85'.repeat(100_000))).message).toMatch(/nested deeper than 1000 levels/);
  });

  it('reads 1000 levels of nesting, the most CPython writes', () => {
    const nested = p4(']'.repeat(1000), 'a'.repeat(999));
    let value = loadPickle(nested) as unknown[];
    for (let level = 1; level < 1000; level++) value = value[0] as unknown[];
    expect(value).toEqual([]);
  });

  it('bounds the work of copies made from memoized values', () => {
    // A 1 MiB list, then set(list) over and over through the memo: quadratic without a budget.
    const list = p4(']\x94(', 'K\x01'.repeat(200_000), 'e');
    const repeat = '\x8c\x08builtins\x8c\x03set\x93h\x00\x85R0'.repeat(2000);
    const bomb = Buffer.concat([list.subarray(0, -1), latin1(repeat), latin1('N.')]);
    const started = performance.now();
    expect(loadError(bomb).message).toMatch(/more work than its size allows/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('wraps non-Buffer input', () => {
    expect(() => loadPickle('N.' as unknown as Buffer)).toThrow(SerializationError);
  });

  it('wraps any JS exception raised inside the VM', () => {
    const hostile = new Proxy(Buffer.from('N.'), {
      get(target, property, receiver) {
        if (property === 'length') throw new TypeError('hostile length');
        return Reflect.get(target, property, receiver);
      },
    });
    const error = loadError(hostile);
    expect(error.message).toBe('Cannot read pickle: TypeError: hostile length');
    expect(error.cause).toBeInstanceOf(TypeError);
  });
});
