import { describe, expect, it } from 'vitest';
import { LARGE_ARGUMENT_BYTES, encodeCommand, encodeCommandBytes } from './encoder';

describe('encodeCommand', () => {
  it('encodes every argument as a bulk string with its byte length', () => {
    expect(encodeCommand(['SET', 'clé', Buffer.from([0, 13, 10]), 42, -1.5, 10n]).toString('latin1')).toBe(
      Buffer.from('*6\r\n$3\r\nSET\r\n$4\r\nclé\r\n$3\r\n\0\r\n\r\n$2\r\n42\r\n$4\r\n-1.5\r\n$2\r\n10\r\n').toString('latin1'),
    );
  });

  it('keeps a key holding CRLF and a command inside one bulk string (no injection)', () => {
    const wire = encodeCommand(['GET', 'a\r\nFLUSHALL\r\n']).toString('latin1');
    expect(wire).toBe('*2\r\n$3\r\nGET\r\n$13\r\na\r\nFLUSHALL\r\n\r\n');
  });

  it('writes lengths of many digits and empty arguments', () => {
    const value = 'x'.repeat(12345);
    expect(encodeCommand(['SET', '', value]).toString()).toBe(`*3\r\n$3\r\nSET\r\n$0\r\n\r\n$12345\r\n${value}\r\n`);
  });

  it('encodes commands of many arguments, after and between shorter ones', () => {
    const keys = Array.from({ length: 100 }, (_, index) => `key:${index}`);
    const expected = `*101\r\n$4\r\nMGET\r\n${keys.map((key) => `$${key.length}\r\n${key}\r\n`).join('')}`;
    expect(encodeCommand(['MGET', ...keys]).toString()).toBe(expected);
    expect(encodeCommand(['GET', 'a']).toString()).toBe('*2\r\n$3\r\nGET\r\n$1\r\na\r\n');
    expect(encodeCommand(['MGET', ...keys]).toString()).toBe(expected);
  });

  it('rejects arguments that have no wire form with a TypeError', () => {
    expect(() => encodeCommand(['SET', 'k', undefined as never])).toThrow(TypeError);
    expect(() => encodeCommand(['SET', 'k', NaN])).toThrow(/argument 2/);
    expect(() => encodeCommand(['SET', 'k', { a: 1 } as never])).toThrow(TypeError);
  });
});

describe('encodeCommandBytes', () => {
  it('gives one Buffer when no argument is a large Buffer, large strings included', () => {
    const largeText = 'x'.repeat(LARGE_ARGUMENT_BYTES * 2);
    const bytes = encodeCommandBytes(['SET', 'k', largeText]);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes).toEqual(encodeCommand(['SET', 'k', largeText]));
    expect(Buffer.isBuffer(encodeCommandBytes(['SET', 'k', Buffer.alloc(LARGE_ARGUMENT_BYTES - 1, 1)]))).toBe(true);
  });

  it('leaves large Buffer arguments uncopied, between pieces that make the same bytes', () => {
    const first = Buffer.alloc(LARGE_ARGUMENT_BYTES, 'a');
    const second = Buffer.alloc(LARGE_ARGUMENT_BYTES + 7, 'b');
    const args = ['MSET', 'k1', first, 'k2', second, 'k3', Buffer.from('small')];
    const pieces = encodeCommandBytes(args);
    expect(Array.isArray(pieces)).toBe(true);
    const list = pieces as Buffer[];
    expect(list.filter((piece) => piece === first || piece === second)).toHaveLength(2);
    expect(Buffer.concat(list)).toEqual(encodeCommand(args));
    expect(Buffer.concat(list).toString('latin1')).toBe(
      `*7\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$${first.length}\r\n${first.toString('latin1')}\r\n$2\r\nk2\r\n$${second.length}\r\n${second.toString('latin1')}\r\n$2\r\nk3\r\n$5\r\nsmall\r\n`,
    );
  });
});
