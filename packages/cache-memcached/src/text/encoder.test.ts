import { describe, expect, it } from 'vitest';
import { encodeGetAndTouch, encodeKeyCommand, encodeRetrieval, encodeStorage } from './encoder';

describe('text encoder', () => {
  it('writes storage commands with the value by byte length', () => {
    const value = Buffer.from('é\r\nEND\r\n', 'utf8');
    expect(encodeStorage('set', 'clé', 2, -1, value).toString('utf8')).toBe('set clé 2 -1 9\r\né\r\nEND\r\n\r\n');
    expect(encodeStorage('cas', 'k', 0, 0, Buffer.from('v'), 18446744073709551615n).toString()).toBe('cas k 0 0 1 18446744073709551615\r\nv\r\n');
  });

  it('writes many keys in one retrieval command', () => {
    expect(encodeRetrieval('get', ['a', 'ключ', 'c']).toString('utf8')).toBe('get a ключ c\r\n');
    expect(encodeRetrieval('gets', ['a']).toString()).toBe('gets a\r\n');
    expect(encodeGetAndTouch(30, ['a', 'b']).toString()).toBe('gat 30 a b\r\n');
  });

  it('writes key commands with an argument and noreply', () => {
    expect(encodeKeyCommand('incr', 'n', '18446744073709551615').toString()).toBe('incr n 18446744073709551615\r\n');
    expect(encodeKeyCommand('delete', 'k', undefined, true).toString()).toBe('delete k noreply\r\n');
    expect(encodeKeyCommand('touch', 'k', '10').toString()).toBe('touch k 10\r\n');
    expect(encodeKeyCommand('mg', 'k', 't').toString()).toBe('mg k t\r\n');
  });
});
